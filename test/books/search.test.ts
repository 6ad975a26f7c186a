// GET /bookapi/books?q=…&owner=me: what matches, on SQLite and PostgreSQL alike (the same
// expectations run on each database), pages, limits, and every way a book is written.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { fold, searchText } from '../../src/books/search.js';
import type { Db } from '../../src/db/database.js';
import { migrateDown, migrateToLatest } from '../../src/db/migrate.js';
import { bookapi } from '../cli/run.js';
import { addBook, body, build, makeAdmin, signupAndLogin, TEST_DB } from '../helpers.js';

type Books = { Books: { id: number; title: string; author: string }[] };

const LIBRARY = [
  { title: 'The Hobbit', author: 'J. R. R. Tolkien' },
  { title: 'Le Petit Prince', author: 'Antoine de Saint-Exupéry' },
  { title: 'Die Straße', author: 'Günter Grass' },
  { title: '100% Pure', author: 'Ann Writer' },
  { title: '1000 Pure', author: 'Ann Writer' }, // what `100%` would find if % were a wildcard
  { title: 'snake_case recipes', author: 'Cook' },
  { title: 'snakeXcase recipes', author: 'Cook' }, // what `snake_case` would find if _ were a wildcard
  { title: 'C:\\Games', author: 'Nobody' },
  { title: 'Games Night', author: 'Nobody' }, // what `\games` would find if \ escaped the g
  { title: 'Œuvres complètes', author: 'Molière' },
  { title: '📚 Reading Club', author: 'Émilie' },
  { title: 'ﬁnal Fantasy', author: 'Square' },
  { title: "Ørsted's Lab", author: 'Łukasz Đokić' },
  { title: 'ΟΔΥΣΣΕΙΑ', author: 'Ὅμηρος' },
];
const titles = (...n: number[]) => n.map((i) => LIBRARY[i - 1]?.title);
const ALL = LIBRARY.map((b) => b.title);

/** [q, the titles it finds], the same on both databases. */
const SEMANTICS: [string, (string | undefined)[]][] = [
  // case, accents, a word anywhere inside the title or author
  ['tolkien', titles(1)],
  ['Tolkién', titles(1)],
  ['TOLKIEN', titles(1)],
  ['hobb', titles(1)],
  ['olki', titles(1)],
  ['exupery', titles(2)],
  ['moliere', titles(10)],
  ['COMPLETES', titles(10)],
  // every word, in the title or the author
  ['hobbit tolkien', titles(1)],
  ['tolkien hobbit', titles(1)],
  ['straße grass', titles(3)],
  ['hobbit grass', []],
  ['pure writer', titles(4, 5)],
  // punctuation separates words, in the query as in the text
  ['saint-exupéry', titles(2)],
  ['"The Hobbit!"', titles(1)],
  ['hobbit,,, tolkien.', titles(1)],
  ['j.r.r.', titles(1)],
  ["Ørsted's", titles(13)],
  ['orsteds', titles(13)],
  // LIKE's metacharacters match themselves
  ['100%', titles(4)],
  ['%', titles(4)],
  ['pure', titles(4, 5)],
  ['snake_case', titles(6)],
  ['_', titles(6)],
  ['\\games', titles(8)],
  ['\\', titles(8)],
  ['games', titles(8, 9)],
  // 1 and 2 characters: no trigram, still found
  ['ki', titles(1, 13)],
  ['KÍ', titles(1, 13)],
  ['ss', titles(3)], // not the Greek σσ of 14
  ['j', titles(1)],
  ['fi', titles(12)],
  // Unicode: ß is ss, œ is oe, ø is o, ł is l, đ is d, ligatures are their letters
  ['strasse', titles(3)],
  ['STRASSE', titles(3)],
  ['Straße', titles(3)],
  ['ẞ', titles(3)],
  ['oeuvres', titles(10)],
  ['Œuvres', titles(10)],
  ['orsted', titles(13)],
  ['lukasz dokic', titles(13)],
  ['ŁUKASZ', titles(13)],
  ['final', titles(12)],
  ['ﬁnal', titles(12)],
  ['ｆｉｎａｌ', titles(12)],
  ['οδυσσεια', titles(14)],
  ['ομηρος', titles(14)],
  ['Ὀδύσσεια', titles(14)],
  // emoji are words too
  ['📚', titles(11)],
  ['📚 emilie', titles(11)],
  ['reading 📚 club', titles(11)],
  // nothing, and no filter
  ['xyz', []],
  ['tolkien xyz', []],
  ['', ALL],
  ['   ', ALL],
  ['!!! ...', ALL],
];

async function search(app: FastifyInstance, headers: Record<string, string>, query: string) {
  const res = await app.inject({ method: 'GET', url: `/bookapi/books?${query}`, headers });
  assert.equal(res.statusCode, 200, `${query}: ${res.body}`);
  return body<Books>(res).Books;
}

const q = (text: string) => `q=${encodeURIComponent(text)}`;

test(`search semantics (${TEST_DB}): case, accents, substrings, every word, punctuation, metacharacters, Unicode`, async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  for (const book of LIBRARY) await addBook(app, headers, book);
  const failures: string[] = [];
  for (const [text, expected] of SEMANTICS) {
    const found = (await search(app, headers, q(text))).map((b) => b.title);
    if (JSON.stringify(found) !== JSON.stringify(expected))
      failures.push(
        `q=${JSON.stringify(text)}: found ${JSON.stringify(found)}, expected ${JSON.stringify(expected)}`,
      );
  }
  assert.deepEqual(failures, []);
});

test('the fold: one function for stored text and queries, stable when applied again', () => {
  assert.equal(fold('  The  Hobbit,  or There-and-Back  '), 'the hobbit or there and back');
  assert.equal(
    fold('Straße ẞ Æsir Œuvre Ørsted Łódź Đorđe ıi Þór'),
    'strasse ss aesir oeuvre orsted lodz dorde ii thor',
  );
  assert.equal(fold('ﬁ ﬂ ｆｕｌｌ x² ①'), 'fi fl full x2 1');
  assert.equal(fold('C# C++ AT&T 100% a_b c\\d @home M*A*S*H'), 'c# c++ at&t 100% a_b c\\d @home m*a*s*h');
  assert.equal(fold("Tolkien's O’Brien soft\u00adhyphen"), 'tolkiens obrien softhyphen');
  assert.equal(fold('❤️ 👨‍👩‍👧'), '❤ 👨👩👧');
  assert.equal(fold('ΟΔΟΣ'), 'οδοσ');
  assert.equal(fold('tab\there\nnew\u0000line'), 'tab here new line');
  assert.equal(searchText('Die Straße', 'Günter Grass'), 'die strasse gunter grass');
  for (const text of LIBRARY.flatMap((b) => [b.title, b.author])) assert.equal(fold(fold(text)), fold(text));
});

test('pages of a search: Link carries q, and the next page continues it', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  const sagas: number[] = [];
  for (let i = 1; i <= 5; i++) {
    await addBook(app, headers, { title: `Other ${i}`, author: 'Someone' });
    sagas.push((await addBook(app, headers, { title: `The Sága ${i}`, author: 'Skald' })).id);
  }
  const seen: number[] = [];
  const links: string[] = [];
  let url: string | undefined = `/bookapi/books?limit=2&${q('saga skald')}`;
  while (url) {
    const res: LightMyRequestResponse = await app.inject({ method: 'GET', url, headers });
    assert.equal(res.statusCode, 200, res.body);
    seen.push(...body<Books>(res).Books.map((b) => b.id));
    const link = res.headers.link as string | undefined;
    if (link) links.push(link);
    url = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
  }
  assert.deepEqual(seen, sagas);
  assert.deepEqual(links, [
    `</bookapi/books?limit=2&after=${sagas[1]}&q=saga%20skald>; rel="next"`,
    `</bookapi/books?limit=2&after=${sagas[3]}&q=saga%20skald>; rel="next"`,
  ]);
  // The client's own spelling of q goes into the link, encoded.
  const res = await app.inject({
    method: 'GET',
    url: `/bookapi/books?limit=1&${q('Sága/1 skald')}`,
    headers,
  });
  assert.equal(
    res.headers.link,
    `</bookapi/books?limit=1&after=${sagas[0]}&q=S%C3%A1ga%2F1%20skald>; rel="next"`,
  );
});

test('?owner=me lists only the caller’s books, with or without q, and pages carry it', async (t) => {
  const { app, db } = await build(t);
  const alice = await signupAndLogin(app, 'alice');
  const bob = await signupAndLogin(app, 'bob');
  const mine = [];
  for (let i = 1; i <= 3; i++) {
    mine.push((await addBook(app, alice.headers, { title: `Dune ${i}`, author: 'Frank Herbert' })).id);
    await addBook(app, bob.headers, { title: `Dune ${i} (bob)`, author: 'Frank Herbert' });
  }
  await addBook(app, bob.headers, { title: 'Emma', author: 'Jane Austen' });
  const ids = async (who: { headers: Record<string, string> }, query: string) =>
    (await search(app, who.headers, query)).map((b) => b.id);
  assert.deepEqual(await ids(alice, 'owner=me'), mine);
  assert.equal((await ids(bob, 'owner=me')).length, 4, 'another caller, another answer');
  assert.deepEqual(await ids(alice, `owner=me&${q('dune 2')}`), [mine[1]]);
  assert.deepEqual(await ids(alice, `owner=me&${q('emma')}`), []);
  assert.equal((await ids(alice, q('dune'))).length, 6, 'without owner, everyone’s');
  const first = await app.inject({
    method: 'GET',
    url: '/bookapi/books?owner=me&limit=2',
    headers: alice.headers,
  });
  assert.equal(first.headers.link, `</bookapi/books?limit=2&after=${mine[1]}&owner=me>; rel="next"`);
  const withQ = await app.inject({
    method: 'GET',
    url: `/bookapi/books?owner=me&limit=1&${q('herbert')}`,
    headers: alice.headers,
  });
  assert.equal(
    withQ.headers.link,
    `</bookapi/books?limit=1&after=${mine[0]}&q=herbert&owner=me>; rel="next"`,
  );
  // An admin's own books are still only the admin's.
  await makeAdmin(db, 'bob');
  assert.equal((await ids(bob, 'owner=me')).length, 4);
});

test('bad q and owner answer 400 with a message', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  await addBook(app, headers);
  const cases: [string, RegExp][] = [
    [q('x'.repeat(201)), /200/],
    [q(`${'é'.repeat(199)}ab`), /200/],
    [q('one two three four five six seven eight nine'), /9 words.*at most 8/],
    [q('a-b-c-d-e-f-g-h-i'), /9 words/],
    [q('tab\there'), /q/],
    ['q=a%00b', /q/],
    ['owner=you', /owner/],
    ['owner=ME', /owner/],
    ['owner=', /owner/],
    [`owner=me&owner=me`, /owner/],
    [`${q('a')}&${q('b')}`, /q/],
  ];
  for (const [query, message] of cases) {
    const res = await app.inject({ method: 'GET', url: `/bookapi/books?${query}`, headers });
    assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
    const answer = body<{ message: string; code: string }>(res);
    assert.match(answer.message, message, query);
    assert.equal(typeof answer.code, 'string');
  }
  // The limits themselves are fine.
  assert.equal((await search(app, headers, q('x'.repeat(200)))).length, 0);
  assert.equal((await search(app, headers, q('the hobbit j r r tolkien the hobbit'))).length, 1);
});

test('books written through POST, the original addbook, PATCH and DELETE are found as they are now', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  const found = async (text: string) => (await search(app, headers, q(text))).map((b) => b.title);
  assert.deepEqual(await found('dune'), []);
  const dune = await addBook(app, headers, { title: 'Dune', author: 'Frank Herbert' });
  assert.deepEqual(await found('dune'), ['Dune'], 'a cached empty answer is not served after a write');
  const added = await app.inject({
    method: 'POST',
    url: '/bookapi/addbook',
    headers,
    payload: { title: 'Émile', author: 'Rousseau' },
  });
  assert.equal(added.statusCode, 200);
  assert.deepEqual(await found('emile rousseau'), ['Émile']);
  const patch = (payload: object) =>
    app.inject({ method: 'PATCH', url: `/bookapi/books/${dune.id}`, headers, payload });
  assert.equal((await patch({ title: 'Children of Dune' })).statusCode, 200);
  assert.deepEqual(await found('children herbert'), ['Children of Dune']);
  assert.equal((await patch({ author: 'Brian Herbert' })).statusCode, 200);
  assert.deepEqual(await found('brian children'), ['Children of Dune']);
  assert.deepEqual(await found('frank'), []);
  assert.equal((await patch({ title: 'Heretics' })).statusCode, 200);
  assert.deepEqual(await found('children'), []);
  assert.deepEqual(await found('heretics brian'), ['Heretics']);
  await app.inject({ method: 'DELETE', url: `/bookapi/books/${dune.id}`, headers });
  assert.deepEqual(await found('heretics'), []);
});

/** Books beyond SQLite's first scanned ids, so that its index is what finds them. */
async function fillers(db: Db, count: number): Promise<void> {
  const owner = await db.selectFrom('users').select('id').executeTakeFirstOrThrow();
  const now = new Date().toISOString();
  for (let start = 1; start <= count; start += 500) {
    const batch = Array.from({ length: Math.min(500, count - start + 1) }, (_, i) => {
      const n = start + i;
      const title = [100, 2500, 2600, 4800].includes(n) ? `Zebra ${n}` : `Filler ${n}`;
      return {
        title,
        author: 'Anon',
        title_key: title.toLowerCase(),
        author_key: 'anon',
        search_text: searchText(title, 'Anon'),
        owner_id: owner.id,
        created_at: now,
        updated_at: now,
      };
    });
    await db.insertInto('books').values(batch).execute();
  }
}

test('a large library: scanned ids and the index together give every page, in order', async (t) => {
  const { app, db } = await build(t);
  const { headers } = await signupAndLogin(app);
  await fillers(db, 5000);
  const pages: number[][] = [];
  let url: string | undefined = `/bookapi/books?limit=2&${q('zebra')}`;
  while (url) {
    const res: LightMyRequestResponse = await app.inject({ method: 'GET', url, headers });
    assert.equal(res.statusCode, 200, res.body);
    pages.push(body<Books>(res).Books.map((b) => b.id));
    const link = res.headers.link as string | undefined;
    url = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
  }
  assert.deepEqual(pages, [[100, 2500], [2600, 4800], []]);
  // A common word fills its pages from the scan, at any depth.
  assert.deepEqual(
    (await search(app, headers, `limit=3&after=4000&${q('filler')}`)).map((b) => b.id),
    [4001, 4002, 4003],
  );
  // Rows the index must find after they change: beyond the scanned ids of `after=0`.
  assert.equal(
    (await app.inject({ method: 'PATCH', url: '/bookapi/books/4500', headers, payload: { title: 'Quagga' } }))
      .statusCode,
    200,
  );
  assert.deepEqual(
    (await search(app, headers, q('quagga'))).map((b) => b.id),
    [4500],
  );
  assert.deepEqual(
    (await search(app, headers, q('4500'))).map((b) => b.id),
    [],
  );
  await app.inject({ method: 'DELETE', url: '/bookapi/books/4500', headers });
  assert.deepEqual(
    (await search(app, headers, q('quagga'))).map((b) => b.id),
    [],
  );
  await db.deleteFrom('books').where('id', '=', 4800).execute();
  assert.deepEqual(
    (await search(app, headers, `after=2600&${q('zebra')}`)).map((b) => b.id),
    [],
  );
  if (TEST_DB === 'sqlite') {
    // The FTS5 index still matches its content table row for row.
    await sql`insert into books_fts (books_fts, rank) values ('integrity-check', 1)`.execute(db);
  }
});

test('a book written by SQL without search_text is listed, never a 500, and found once the API rewrites it', async (t) => {
  const { app, db } = await build(t);
  const { headers } = await signupAndLogin(app);
  const owner = await db.selectFrom('users').select('id').executeTakeFirstOrThrow();
  const now = new Date().toISOString();
  await sql`insert into books (title, author, title_key, author_key, owner_id, created_at, updated_at)
    values ('Raw Row', 'Operator', 'raw row', 'operator', ${owner.id}, ${now}, ${now})`.execute(db);
  const listed = await search(app, headers, '');
  assert.deepEqual(
    listed.map((b) => b.title),
    ['Raw Row'],
  );
  await sql`insert into books (title, author, title_key, author_key, owner_id, created_at, updated_at)
    values ('Raw Two', 'Operator', 'raw two', 'operator', ${owner.id}, ${now}, ${now})`.execute(db);
  const two = (await search(app, headers, '')).at(-1);
  assert.equal(two?.title, 'Raw Two');
  const deleted = await app.inject({ method: 'DELETE', url: `/bookapi/books/${two?.id}`, headers });
  assert.equal(deleted.statusCode, 200);
  assert.deepEqual(await search(app, headers, q('raw')), []);
  assert.deepEqual(await search(app, headers, `owner=me&${q('operator')}`), []);
  const id = listed[0]?.id;
  const res = await app.inject({
    method: 'PATCH',
    url: `/bookapi/books/${id}`,
    headers,
    payload: { title: 'Raw Row' },
  });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(
    (await search(app, headers, q('raw operator'))).map((b) => b.id),
    [id],
  );
  if (TEST_DB === 'sqlite')
    await sql`insert into books_fts (books_fts, rank) values ('integrity-check', 1)`.execute(db);
});

test('books imported with `bookapi books import` are found', async (t: TestContext) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-search-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env: Record<string, string> =
    TEST_DB === 'sqlite' ? { DATABASE_URL: `sqlite:${path.join(dir, 'library.db')}` } : {};
  const { app, config } = await build(t, env);
  const { headers } = await signupAndLogin(app, 'librarian');
  assert.deepEqual(await search(app, headers, q('tolkien')), []);
  const file = path.join(dir, 'books.csv');
  fs.writeFileSync(file, 'title,author\nThe Hobbit,J. R. R. Tolkien\nDie Straße,Günter Grass\n');
  const url = config.database.kind === 'sqlite' ? `sqlite:${config.database.file}` : config.database.url;
  const imported = bookapi(['books', 'import', file, '--owner', 'librarian'], {
    DATABASE_URL: url,
    DATA_DIR: dir,
  });
  assert.equal(imported.status, 0, imported.stderr);
  assert.deepEqual(
    (await search(app, headers, q('tolkien'))).map((b) => b.title),
    ['The Hobbit'],
  );
  assert.deepEqual(
    (await search(app, headers, `owner=me&${q('strasse')}`)).map((b) => b.title),
    ['Die Straße'],
  );
});

test('migration 0010 folds the books already there, in batches, and indexes them', async (t) => {
  const { app, db } = await build(t);
  const { headers } = await signupAndLogin(app);
  await migrateDown(db); // back to before 0010: no search_text yet
  const owner = await db.selectFrom('users').select('id').executeTakeFirstOrThrow();
  const now = new Date().toISOString();
  for (let start = 1; start <= 2500; start += 500) {
    const values = Array.from({ length: 500 }, (_, i) => {
      const n = start + i;
      return sql`(${n === 2345 ? 'Ærøskøbing' : `Old ${n}`}, ${'Écrivain'}, ${`old ${n}`}, ${'écrivain'}, ${owner.id}, ${now}, ${now})`;
    });
    await sql`insert into books (title, author, title_key, author_key, owner_id, created_at, updated_at)
      values ${sql.join(values)}`.execute(db);
  }
  await migrateToLatest(db);
  const unfolded = await db.selectFrom('books').select('id').where('search_text', 'is', null).execute();
  assert.equal(unfolded.length, 0);
  const row = await db
    .selectFrom('books')
    .select('search_text')
    .where('id', '=', 2345)
    .executeTakeFirstOrThrow();
  assert.equal(row.search_text, 'aeroskobing ecrivain');
  assert.deepEqual(
    (await search(app, headers, q('ærøsköbing écrivain'))).map((b) => b.id),
    [2345],
  );
  assert.equal((await search(app, headers, `limit=1000&${q('ecrivain')}`)).length, 1000);
  if (TEST_DB === 'sqlite') {
    await sql`insert into books_fts (books_fts, rank) values ('integrity-check', 1)`.execute(db);
    const plan = await sql<{ detail: string }>`explain query plan
      select id from books where id > 0 and id in (select rowid from books_fts where books_fts match '"aero"')`.execute(
      db,
    );
    assert.ok(
      plan.rows.some((r) => /books_fts VIRTUAL TABLE INDEX \d+:M/.test(r.detail)),
      JSON.stringify(plan.rows),
    );
  } else {
    const available = await sql`select 1 from pg_available_extensions where name = 'pg_trgm'`.execute(db);
    const indexes = await sql<{ name: string }>`select indexname as name from pg_indexes
      where schemaname = current_schema() and tablename = 'books' order by 1`.execute(db);
    assert.deepEqual(
      indexes.rows.map((r) => r.name),
      [
        'books_owner_id_id',
        'books_pkey',
        ...(available.rows.length > 0 ? ['books_search_text_trgm'] : []),
        'books_title_author_key',
      ],
    );
  }
});
