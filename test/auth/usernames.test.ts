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
import { isUniqueViolation } from '../../src/db/errors.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import * as m0001 from '../../src/db/migrations/0001_users_and_books.js';
import * as m0002 from '../../src/db/migrations/0002_sessions.js';
import * as m0003 from '../../src/db/migrations/0003_bigint_ids.js';
import * as m0004 from '../../src/db/migrations/0004_one_live_refresh_token.js';
import { findUsernameClash, insertUser } from '../../src/users/repository.js';
import { usernameSkeletons } from '../../src/users/skeleton.js';
import { CONFUSABLES } from '../../src/users/unicode-data.js';
import { checkUsername, usernameKey } from '../../src/users/username.js';
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
  // Not Default_Ignorable, yet they show nothing.
  ['U+16FE4 KHITAN SMALL SCRIPT FILLER ×3 after a name', 'caroleurs\u{16FE4}\u{16FE4}\u{16FE4}'],
  ['U+2D7F TIFINAGH CONSONANT JOINER after a name', 'caroleurs\u2D7F'],
  ['U+1107F BRAHMI NUMBER JOINER after a name', 'caroleurs\u{1107F}'],
  ['U+180E MONGOLIAN VOWEL SEPARATOR inside', 'bo\u180Eb'],
  ['U+1BCA0–U+1BCA3 shorthand format controls', 'bob\u{1BCA0}\u{1BCA1}\u{1BCA2}\u{1BCA3}'],
];

for (const [name, username] of invisible) {
  test(`a username with ${name} is refused with 400 and a message naming the character`, async (t) => {
    const { app, db } = await build(t);
    const res = await signup(app, as(username));
    assert.equal(res.statusCode, 400, res.body);
    const answer = body<{ message: string; code: string }>(res);
    assert.equal(answer.code, 'USERNAME_INVALID');
    assert.match(answer.message, /U\+[0-9A-F]{4,5}, an invisible or blank character|space/);
    assert.equal((await db.selectFrom('users').select('id').execute()).length, 0);
  });
}

test('a dot above a letter that already has one, or a mark twice on one letter, is refused (Unicode TS #39 §5.4)', async (t) => {
  const { app, db } = await build(t);
  for (const [username, mark] of [
    ['ali\u0307ce', 'U+0307'], // looks exactly like alice
    ['j\u0307ohn', 'U+0307'],
    ['\u0131\u0307van', 'U+0307'], // dotless i + dot: an i
    ['\u0237\u0307ohn', 'U+0307'], // dotless j + dot: a j
    ['\u0456\u0307van', 'U+0307'], // Cyrillic і, soft-dotted too
    ['ｉ\u0307van', 'U+0307'], // fullwidth i, once width-mapped
    ['ali\u0323\u0307ce', 'U+0307'], // a dot below between does not hide it
    ['zoe\u0308\u0308', 'U+0308'], // a second diaeresis over the first
  ] as const) {
    const res = await signup(app, as(username));
    assert.equal(res.statusCode, 400, username);
    const answer = body<{ message: string; code: string }>(res);
    assert.equal(answer.code, 'USERNAME_INVALID', username);
    assert.ok(answer.message.startsWith(`Username contains ${mark}, `), answer.message);
    assert.ok(answer.message.endsWith(', which is not allowed'), answer.message);
  }
  assert.equal((await db.selectFrom('users').select('id').execute()).length, 0);
  // A capital I with a dot (Turkish) is a letter of its own; so are dots on letters without one.
  for (const username of ['\u0130stanbul', 'I\u0307zmir', '\u010Barol', 'Zoë']) {
    assert.equal((await signup(app, as(username))).statusCode, 201, username);
  }
});

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
  const { app } = await build(t, { SIGNUP_IP_MAX: '50' });
  for (const username of ['paypal', 'hacker', 'mike', 'bob', 'robert', 'victor', 'user', 'nina', 'kevin']) {
    assert.equal((await signup(app, as(username))).statusCode, 201, username);
  }
  for (const lookalike of [
    'p\u0430yp\u0430l', // Cyrillic а
    '\u0440\u0430\u0443\u0440\u0430l', // Cyrillic р, а, у
    'PAYPAI', // capital i for l
    '\u041D\u0410\u0421\u041A\u0415R', // Cyrillic НАСКЕ
    'rnike', // r n for m
    'b0b', // zero for o
    // Small letters whose prototype only the small form has: г is r, but Г is Γ.
    '\u0433obert', // Cyrillic г
    '\u03BDictor', // Greek ν
    '\u03C5ser', // Greek υ
    'b\u03C3b', // Greek σ
    '\u057Cina', // Armenian ռ
    'kev\u026An', // small capital ɪ
    '\u0413OBERT', // the identity гobert, whatever case it is typed in
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

test('no single character that Unicode TS #39 maps to an ASCII letter or digit gets past the check', (t) => {
  const looksAlike = (a: string, b: string) => {
    const [x, y] = [usernameSkeletons(usernameKey(a)), usernameSkeletons(usernameKey(b))];
    return x.lower === y.lower || x.upper === y.upper;
  };
  const hex = (h: string) => String.fromCodePoint(Number.parseInt(h, 16));
  // Inside a Latin name, or (for a right-to-left letter, which the Bidi Rule keeps out of one) three of it.
  const names = (c: string, p: string): [string, string][] => [
    [`x${c}yz`, `x${p}yz`],
    [c.repeat(3), p.repeat(3)],
  ];
  let entries = 0;
  let caught = 0;
  let refused = 0;
  const missed: string[] = [];
  for (const line of CONFUSABLES.trim().split('\n')) {
    const [from = '', ...to] = line.split(' ');
    const prototype = to.length === 1 ? hex(to[0] ?? '') : '';
    if (!/^[A-Za-z0-9]$/.test(prototype)) continue;
    entries++;
    const pair = names(hex(from), prototype).find(([name]) => checkUsername(name).ok);
    if (!pair) {
      refused++; // a compatibility form, symbol, mark or right-to-left digit: no name can hold it
      continue;
    }
    if (looksAlike(...pair)) caught++;
    else missed.push(`U+${from} → ${prototype}`);
  }
  t.diagnostic(`${entries} entries: ${caught} caught, ${refused} refused by the username rules`);
  assert.deepEqual(missed, []);
  assert.ok(caught > 400 && caught + refused === entries, `${caught} + ${refused} of ${entries}`);
});

test('the unique indexes hold both look-alike identities, whichever name comes first', async (t) => {
  const { db } = await build(t);
  let n = 0;
  const add = (username: string) =>
    insertUser(db, { publicId: `p${++n}`, username, passwordHash: 'h', createdAt: 'now' });
  await add('robert'); // small-letter look-alike: г
  await add('paypal'); // capital look-alike: I
  await add('\u03BDictor');
  for (const lookalike of ['\u0433obert', 'PAYPAI', 'victor']) {
    await assert.rejects(add(lookalike), isUniqueViolation, lookalike);
  }
  assert.deepEqual(await findUsernameClash(db, 'victor'), { clash: 'confusable', username: '\u03BDictor' });
  assert.deepEqual(await findUsernameClash(db, 'PAYPAI'), { clash: 'confusable', username: 'paypal' });
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
    'robert',
    '\u0433obert',
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
      'robert',
      `\u0433obert~${id(8)}`,
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
  assert.match(warnings, new RegExp(`\\(id ${id(8)}\\) looks like "robert" \\(id ${id(7)}\\)`));
  assert.equal(warnings.trim().split('\n').length, 4, warnings);
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
  assert.equal((await signup(app, as('PAYPAI'))).statusCode, 409);
  assert.equal((await signup(app, as('\u0433\u043Ebert'))).statusCode, 409); // гоbert: like robert
});
