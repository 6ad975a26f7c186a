// `bookapi books import/export` on real catalogues: 100,000 rows, bad rows reported by line,
// all or nothing by default, and an export that imports back identically.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { build, signup, TEST_DB } from '../helpers.js';
import { bookapi } from './run.js';

const ROWS = 100_000;

/** A fresh database the CLI can open too (a file for SQLite, a schema for PostgreSQL), with two users. */
async function database(t: TestContext, dir: string) {
  const env: Record<string, string> =
    TEST_DB === 'sqlite' ? { DATABASE_URL: `sqlite:${path.join(dir, `${Math.random()}.db`)}` } : {};
  const { app, db, config } = await build(t, env);
  await signup(app, { username: 'librarian', password: 'testing_p@ssword' });
  await signup(app, { username: 'reader', password: 'testing_p@ssword' });
  const url = config.database.kind === 'sqlite' ? `sqlite:${config.database.file}` : config.database.url;
  const count = async () =>
    Number(
      (
        await db
          .selectFrom('books')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return { env: { DATABASE_URL: url, DATA_DIR: dir }, count, db };
}

function catalogue(file: string): void {
  const lines = ['title,author'];
  for (let i = 1; i <= ROWS; i++) lines.push(`"Book ${i}, volume ${i % 7}",Author ${i % 1000}`);
  // Line numbers count the header as line 1, so record i sits on line i + 1.
  lines[499] = ',Nobody'; // line 500: empty title
  lines[49_999] = `${'x'.repeat(300)},Long`; // line 50,000: title over 256 characters
  lines[99_998] = '"  BOOK 2, VOLUME 2 ",author   2'; // line 99,999: a duplicate of line 3 in case and spacing
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

test('100,000 rows with bad ones: nothing imported by default, every bad line reported; --skip-invalid keeps the rest', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-import-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { env, count } = await database(t, dir);
  const file = path.join(dir, 'catalogue.csv');
  catalogue(file);

  const refused = bookapi(['books', 'import', file, '--owner', 'librarian'], env);
  assert.equal(refused.status, 1, refused.stderr);
  assert.match(refused.stderr, /catalogue\.csv: line 500: title must NOT have fewer than 1 characters/);
  assert.match(refused.stderr, /catalogue\.csv: line 50000: title must NOT have more than 256 characters/);
  assert.match(
    refused.stderr,
    /catalogue\.csv: line 99999: a book with the same title and author already exists/,
  );
  assert.match(refused.stderr, /nothing imported: 3 records rejected/);
  assert.equal(await count(), 0, 'nothing half-imported');

  const kept = bookapi(['books', 'import', file, '--owner', 'librarian', '--skip-invalid'], env);
  assert.equal(kept.status, 0, kept.stderr);
  assert.match(kept.stderr, /imported 99997 books from .*, 3 rejected/);
  assert.equal((kept.stderr.match(/: line \d+: /g) ?? []).length, 3);
  assert.equal(await count(), ROWS - 3);

  // The same file again: every row is now a duplicate of a stored book.
  const again = bookapi(['books', 'import', file, '--owner', 'librarian', '--skip-invalid'], env);
  assert.equal(again.status, 0);
  assert.match(again.stderr.trim().split('\n').at(-1) ?? '', /^imported 0 books from .*, 100000 rejected/);
  assert.equal(await count(), ROWS - 3);
});

test('export → import into an empty library → export gives the same bytes (CSV and NDJSON)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-export-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const source = await database(t, dir);
  const input = path.join(dir, 'mixed.ndjson');
  const records = [
    { title: 'The Hobbit', author: 'J. R. R. Tolkien', owner: 'librarian' },
    { title: 'Commas, "quotes"; and semicolons', author: 'Ünïcödé Äuthor', owner: 'reader' },
    { title: '=SUM(A1:A2)', author: 'A spreadsheet', owner: 'reader' },
  ];
  fs.writeFileSync(input, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const seeded = bookapi(['books', 'import', input], source.env);
  assert.equal(seeded.status, 0, seeded.stderr);

  for (const format of ['csv', 'ndjson']) {
    const first = path.join(dir, `first.${format}`);
    const out = bookapi(['books', 'export', '--format', format, '--out', first], source.env);
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stderr, /exported 3 books/);

    const target = await database(t, dir);
    const imported = bookapi(['books', 'import', first], target.env);
    assert.equal(imported.status, 0, `${imported.stderr}\n${fs.readFileSync(first, 'utf8')}`);
    const second = bookapi(['books', 'export', '--format', format], target.env);
    assert.equal(second.stdout, fs.readFileSync(first, 'utf8'), `${format} round trip`);
    const owners = await target.db
      .selectFrom('books')
      .innerJoin('users', 'users.id', 'books.owner_id')
      .select(['books.title', 'users.username'])
      .orderBy('books.id')
      .execute();
    assert.deepEqual(
      owners.map((o) => o.username),
      ['librarian', 'reader', 'reader'],
    );
  }
});

test('JSON arrays and NDJSON: malformed records and unknown owners are reported by position', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-import-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { env, count } = await database(t, dir);
  const json = path.join(dir, 'books.json');
  fs.writeFileSync(
    json,
    JSON.stringify([
      { title: 'A', author: 'B' },
      { title: 42, author: 'B' },
      { title: 'C', author: 'D', owner: 'ghost' },
      'not a book',
    ]),
  );
  const result = bookapi(['books', 'import', json, '--skip-invalid'], env);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /item 1: no owner/);
  assert.match(result.stderr, /item 2: title must be string/);
  assert.match(result.stderr, /item 3: owner "ghost" is not a registered user/);
  assert.match(result.stderr, /item 4: not an object/);
  assert.equal(await count(), 0);

  const ndjson = path.join(dir, 'books.ndjson');
  fs.writeFileSync(ndjson, '{"title":"A","author":"B"}\n{oops\n\n{"title":"C","author":"D"}\n');
  const mixed = bookapi(['books', 'import', ndjson, '--owner', 'reader'], env);
  assert.equal(mixed.status, 1);
  assert.match(mixed.stderr, /line 2: not valid JSON/);
  assert.equal(await count(), 0);

  assert.equal(bookapi(['books', 'import', ndjson, '--owner', 'nobody'], env).status, 2);
  assert.equal(
    bookapi(['books', 'import', path.join(dir, 'missing.csv'), '--owner', 'reader'], env).status,
    2,
  );
  assert.equal(bookapi(['books', 'import', path.join(dir, 'books.txt')], env).status, 2);
});

test('a record the API would refuse is refused with a reason a person can read', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-import-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { env, count } = await database(t, dir);
  const file = path.join(dir, 'control.ndjson');
  fs.writeFileSync(file, `${JSON.stringify({ title: 'two\nlines', author: 'B' })}\n`);
  const result = bookapi(['books', 'import', file, '--owner', 'reader'], env);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /line 1: title must be visible text without control characters/);
  assert.equal(await count(), 0);
});
