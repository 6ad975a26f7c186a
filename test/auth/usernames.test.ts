// One username identity (PRECIS UsernameCaseMapped, RFC 8265), no invisible
// names, no look-alikes (Unicode TS #39), on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Migrator, sql } from 'kysely';
import { buildApp } from '../../src/app.js';
import { hashPassword } from '../../src/auth/passwords.js';
import { parseDatabaseUrl } from '../../src/config.js';
import { createDatabase, type Db } from '../../src/db/database.js';
import { isPostgres } from '../../src/db/dialect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import * as m0001 from '../../src/db/migrations/0001_users_and_books.js';
import * as m0002 from '../../src/db/migrations/0002_sessions.js';
import * as m0003 from '../../src/db/migrations/0003_bigint_ids.js';
import * as m0004 from '../../src/db/migrations/0004_one_live_refresh_token.js';
import { usernameKey } from '../../src/users/username.js';
import { body, build, FakeClock, signup, testConfig, testDatabaseUrl } from '../helpers.js';

const password = 'testing_p@ssword';
const as = (username: string, pw = password) => ({ username, password: pw });

test('usernameKey: width-mapped, lower-cased, NFC (RFC 8265 §3.3.2)', () => {
  for (const [typed, key] of [
    ['Alice', 'alice'],
    ['ＡＬＩＣＥ', 'alice'],
    ['ａｌｉｃｅ', 'alice'],
    ['\u212Aevin', 'kevin'], // KELVIN SIGN: canonical equivalent of K
    ['Zoe\u0308', 'zoë'],
    ['ΟΔΥΣΣΕΥΣ', 'οδυσσευς'],
    ['ｶﾀｶﾅ', 'カタカナ'], // halfwidth forms map to their <narrow> decomposition
    ['ﬁsh', 'ﬁsh'], // not full NFKC: the ligature stays (and is refused at signup)
  ]) {
    assert.equal(usernameKey(typed as string), key, typed);
  }
});

test('Alice, alice, ALICE and ａｌｉｃｅ are one account: 409 "User already exists!"', async (t) => {
  const { app } = await build(t);
  assert.equal((await signup(app, as('Alice'))).statusCode, 201);
  for (const variant of ['alice', 'ALICE', 'ａｌｉｃｅ', 'Ａlice']) {
    const res = await signup(app, as(variant, 'another long password'));
    assert.equal(res.statusCode, 409, variant);
    assert.deepEqual(body(res), { message: 'User already exists!', code: 'USER_EXISTS' }, variant);
  }
});

test('login finds the account by its identity and shows the spelling the user chose', async (t) => {
  const { app } = await build(t);
  assert.equal((await signup(app, as('Zoe\u0308 Smith'))).statusCode, 201);
  for (const typed of ['zoë smith', 'ZOË SMITH', 'Zoe\u0308 Smith', 'ｚｏë ｓｍｉｔｈ']) {
    const login = await app.inject({ method: 'POST', url: '/login', payload: as(typed) });
    assert.equal(login.statusCode, 201, typed);
    const me = await app.inject({
      method: 'GET',
      url: '/me',
      headers: { 'x-access-token': body<{ token: string }>(login).token },
    });
    assert.equal(body(me).username, 'Zoë Smith', 'stored as typed, in NFC');
  }
  const wrong = await app.inject({
    method: 'POST',
    url: '/login',
    payload: as('ZOË SMITH', 'not the password'),
  });
  assert.equal(wrong.statusCode, 401);
});

const invisible: [string, string][] = [
  ['U+3164 HANGUL FILLER ×3', '\u3164\u3164\u3164'],
  ['U+2800 BRAILLE PATTERN BLANK ×3', '\u2800\u2800\u2800'],
  ['U+034F COMBINING GRAPHEME JOINER between letters', 'a\u034Fb\u034Fc'],
  ['U+2060–U+2064', '\u2060\u2061\u2062\u2063\u2064'],
  ['U+115F/U+1160 Hangul fillers', '\u115F\u1160\u115F'],
  ['U+FFA0 HALFWIDTH HANGUL FILLER ×3', '\uFFA0\uFFA0\uFFA0'],
  ['U+200B ZERO WIDTH SPACE inside', 'bo\u200Bb'],
  ['U+200D ZERO WIDTH JOINER inside', 'bo\u200Db'],
  ['U+00AD SOFT HYPHEN inside', 'bo\u00ADb'],
  ['U+FE0F VARIATION SELECTOR inside', 'bob\uFE0F'],
  ['U+3000 IDEOGRAPHIC SPACE ×3', '\u3000\u3000\u3000'],
  ['a filler after a real name', 'alice\u3164'],
];

for (const [name, username] of invisible) {
  test(`a username with ${name} is refused with 400 and a message naming the character`, async (t) => {
    const { app, db } = await build(t);
    const res = await signup(app, as(username));
    assert.equal(res.statusCode, 400, res.body);
    const answer = body<{ message: string; code: string }>(res);
    assert.equal(answer.code, 'USERNAME_INVALID');
    assert.match(answer.message, /U\+[0-9A-F]{4}|space/);
    assert.equal((await db.selectFrom('users').select('id').execute()).length, 0);
  });
}

test('other names outside the PRECIS IdentifierClass are refused with a clear 400', async (t) => {
  const { app } = await build(t);
  for (const [username, why] of [
    ['ﬁsh', /compatibility form/], // ligature
    ['\u24B6lice', /compatibility form/], // circled letter
    ['𝐚𝐥𝐢𝐜𝐞', /compatibility form/], // mathematical bold
    ['bob♥', /symbol/],
    ['\u0301abc', /combining mark/],
    ['two  spaces', /space/],
    ['abcשלום', /right-to-left/], // RFC 5893 Bidi Rule
  ] as const) {
    const res = await signup(app, as(username));
    assert.equal(res.statusCode, 400, username);
    assert.match(body<{ message: string }>(res).message, why, username);
  }
  for (const username of [
    'José',
    'Ærøskøbing',
    'Ελένη',
    'Дмитрий',
    '山田太郎',
    'שלום',
    'mary-jane',
    'a b c',
    'l·l',
  ]) {
    assert.equal((await signup(app, as(username))).statusCode, 201, username);
  }
});

test('the length rule (3-64) counts the normalised name', async (t) => {
  const { app } = await build(t);
  // 128 code units as sent, 64 characters once composed (NFC): accepted.
  assert.equal((await signup(app, as('e\u0301'.repeat(64)))).statusCode, 201);
  assert.equal((await signup(app, as('o\u0308'.repeat(65)))).statusCode, 400);
  const short = await signup(app, as('ａｂ'));
  assert.equal(short.statusCode, 400);
  assert.match(body<{ message: string }>(short).message, /3-64/);
});

test('a name that looks like an existing one is refused with 409 (Unicode TS #39 skeleton)', async (t) => {
  const { app } = await build(t);
  for (const username of ['paypal', 'hacker', 'mike', 'bob']) {
    assert.equal((await signup(app, as(username))).statusCode, 201, username);
  }
  for (const lookalike of [
    'p\u0430yp\u0430l', // Cyrillic а
    '\u0440\u0430\u0443\u0440\u0430l', // Cyrillic р, а, у
    'PAYPAI', // capital i for l
    '\u041D\u0410\u0421\u041A\u0415R', // Cyrillic НАСКЕ
    'rnike', // r n for m
    'b0b', // zero for o
  ]) {
    const res = await signup(app, as(lookalike));
    assert.equal(res.statusCode, 409, lookalike);
    assert.deepEqual(
      body(res),
      { message: 'A user with a name that looks the same already exists!', code: 'USERNAME_CONFUSABLE' },
      lookalike,
    );
  }
});

test('signups racing on one identity or on look-alikes: exactly one wins', async (t) => {
  const { app, db } = await build(t);
  const variants = ['Alice', 'alice', 'ＡＬＩＣＥ', '\u0430lice', 'ALlCE'];
  const answers = await Promise.all(variants.map((u) => signup(app, as(u))));
  const codes = answers.map((r) => r.statusCode).sort();
  assert.deepEqual(codes, [201, 409, 409, 409, 409], answers.map((r) => r.body).join('\n'));
  assert.equal((await db.selectFrom('users').select('id').execute()).length, 1);
});

/** The schema before usernames had an identity: migrations 0001-0004. */
async function migrateTo0004(db: Db): Promise<void> {
  const schema = isPostgres(db)
    ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
    : undefined;
  const migrator = new Migrator({
    db,
    provider: {
      getMigrations: async () => ({
        '0001_users_and_books': m0001,
        '0002_sessions': m0002,
        '0003_bigint_ids': m0003,
        '0004_one_live_refresh_token': m0004,
      }),
    },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}

test('migration 0005: existing clashing accounts — the oldest keeps the name, the others are renamed, nothing is lost', async (t) => {
  const url = await testDatabaseUrl(t);
  const db = createDatabase(parseDatabaseUrl(url));
  let closed = false;
  t.after(() => (closed ? undefined : db.destroy()));
  await migrateTo0004(db);
  const hash = await hashPassword(password);
  // biome-ignore lint/suspicious/noExplicitAny: the users table as it was before 0005
  const old = db as unknown as import('kysely').Kysely<any>;
  const names = [
    'alice',
    'Alice',
    'ａｌｉｃｅ',
    'paypal',
    '\u0440\u0430\u0443\u0440\u0430l',
    'Alice~2',
    'bob',
  ];
  for (const [i, username] of names.entries()) {
    await old
      .insertInto('users')
      .values({ public_id: `p${i}`, username, password_hash: hash, admin: 0, created_at: 'then' })
      .execute();
  }
  const ids = await old.selectFrom('users').select(['id', 'username']).orderBy('id').execute();
  for (const { id } of ids) {
    await old
      .insertInto('books')
      .values({
        title: `Book ${id}`,
        author: 'A',
        title_key: `book ${id}`,
        author_key: 'a',
        owner_id: id,
        created_at: 'then',
        updated_at: 'then',
      })
      .execute();
  }

  const printed: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => {
    printed.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    await migrateToLatest(db);
  } finally {
    process.stderr.write = write;
  }

  const rows = await db
    .selectFrom('users')
    .select(['id', 'username', 'username_key'])
    .orderBy('id')
    .execute();
  const id = (i: number) => ids[i]?.id;
  assert.deepEqual(
    rows.map((r) => r.username),
    [
      'alice',
      `Alice~${id(1)}~2`,
      `ａｌｉｃｅ~${id(2)}`,
      'paypal',
      `\u0440\u0430\u0443\u0440\u0430l~${id(4)}`,
      'Alice~2',
      'bob',
    ],
  );
  assert.equal(new Set(rows.map((r) => r.username_key)).size, rows.length);
  const warnings = printed.join('');
  assert.match(
    warnings,
    new RegExp(
      `"Alice" \\(id ${id(1)}\\) has the same username as "alice" \\(id ${id(0)}\\): renamed to "Alice~${id(1)}~2"`,
    ),
  );
  assert.match(warnings, new RegExp(`"ａｌｉｃｅ" \\(id ${id(2)}\\) has the same username as "alice"`));
  assert.match(warnings, new RegExp(`\\(id ${id(4)}\\) looks like "paypal" \\(id ${id(3)}\\)`));
  assert.equal(warnings.trim().split('\n').length, 3, warnings);
  // Nothing is lost: every account and book is there, and a renamed account logs in with its new name.
  assert.equal((await db.selectFrom('books').select('id').execute()).length, names.length);
  closed = true;
  const app = await buildApp({ config: testConfig({ DATABASE_URL: url }), db, clock: new FakeClock() });
  t.after(() => app.close());
  const renamed = await app.inject({ method: 'POST', url: '/login', payload: as(`alice~${id(1)}~2`) });
  assert.equal(renamed.statusCode, 201, renamed.body);
  const mine = await app.inject({
    method: 'GET',
    url: '/bookapi/books',
    headers: { 'x-access-token': body<{ token: string }>(renamed).token },
  });
  assert.equal(mine.statusCode, 200);
  assert.equal((await signup(app, as('ALICE'))).statusCode, 409);
});
