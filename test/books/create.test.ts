import assert from 'node:assert/strict';
import { test } from 'node:test';
import { body, build, signupAndLogin } from '../helpers.js';

const hobbit = { title: 'The Hobbit', author: 'J. R. R. Tolkien' };

test('POST /bookapi/books answers 201 with the book and its Location', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  const res = await app.inject({ method: 'POST', url: '/bookapi/books', headers, payload: hobbit });
  assert.equal(res.statusCode, 201);
  const book = body<{ id: number; title: string; author: string; created_at: string }>(res);
  assert.equal(book.title, hobbit.title);
  assert.equal(book.author, hobbit.author);
  assert.equal(res.headers.location, `/bookapi/books/${book.id}`);
  const fetched = await app.inject({ method: 'GET', url: res.headers.location, headers });
  assert.deepEqual(body(fetched), book);
});

for (const url of ['/bookapi/addbook', '/bookapi/books']) {
  test(`${url}: the same title and author, in any case and spacing, answers 409`, async (t) => {
    const { app } = await build(t);
    const { headers } = await signupAndLogin(app);
    assert.ok(
      [200, 201].includes((await app.inject({ method: 'POST', url, headers, payload: hobbit })).statusCode),
    );
    for (const payload of [hobbit, { title: '  the HOBBIT ', author: 'j. r. r. tolkien  ' }]) {
      const res = await app.inject({ method: 'POST', url, headers, payload });
      assert.equal(res.statusCode, 409);
      assert.deepEqual(body(res), { message: 'Book with same title already exists!', code: 'BOOK_EXISTS' });
    }
    // Same title by another author is another book.
    const other = await app.inject({
      method: 'POST',
      url,
      headers,
      payload: { ...hobbit, author: 'Someone Else' },
    });
    assert.ok([200, 201].includes(other.statusCode));
    const list = await app.inject({ method: 'GET', url: '/bookapi/books', headers });
    assert.equal(body<{ Books: unknown[] }>(list).Books.length, 2);
  });

  const invalid: [string, unknown][] = [
    ['no body', undefined],
    ['no title', { author: 'A' }],
    ['no author', { title: 'T' }],
    ['an empty title', { title: '', author: 'A' }],
    ['a blank title', { title: '   ', author: 'A' }],
    ['a numeric title', { title: 42, author: 'A' }],
    ['an array author', { title: 'T', author: ['A'] }],
    ['a title over 256 characters', { title: 't'.repeat(257), author: 'A' }],
    ['an author over 256 characters', { title: 'T', author: 'a'.repeat(257) }],
    ['a JSON string body', 'The Hobbit'],
  ];
  for (const [name, payload] of invalid) {
    test(`${url} with ${name} answers 400 "Invalid input!" and stores nothing`, async (t) => {
      const { app, db } = await build(t);
      const { headers } = await signupAndLogin(app);
      const res = await app.inject({
        method: 'POST',
        url,
        headers: { ...headers, 'content-type': 'application/json' },
        payload: payload === undefined ? '' : JSON.stringify(payload),
      });
      assert.equal(res.statusCode, 400);
      assert.equal(body(res).message, 'Invalid input!');
      assert.equal((await db.selectFrom('books').select('id').execute()).length, 0);
    });
  }
}

test('a 256-character title is accepted; the title is stored trimmed', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  const res = await app.inject({
    method: 'POST',
    url: '/bookapi/books',
    headers,
    payload: { title: `  ${'t'.repeat(252)}  `, author: 'A' },
  });
  assert.equal(res.statusCode, 201);
  assert.equal(body(res).title, 't'.repeat(252));
});

test('owner or user_id in the body cannot choose the owner', async (t) => {
  const { app, db } = await build(t);
  const mallory = await signupAndLogin(app, 'mallory');
  await signupAndLogin(app, 'victim');
  const victim = await db
    .selectFrom('users')
    .select('id')
    .where('username', '=', 'victim')
    .executeTakeFirstOrThrow();
  const res = await app.inject({
    method: 'POST',
    url: '/bookapi/books',
    headers: mallory.headers,
    payload: { ...hobbit, owner: victim.id, owner_id: victim.id, user_id: victim.id, id: 999 },
  });
  assert.equal(res.statusCode, 201);
  const row = await db.selectFrom('books').select(['id', 'owner_id']).executeTakeFirstOrThrow();
  const malloryRow = await db
    .selectFrom('users')
    .select('id')
    .where('username', '=', 'mallory')
    .executeTakeFirstOrThrow();
  assert.equal(row.owner_id, malloryRow.id);
  assert.notEqual(row.id, 999);
});

test('a title that looks like SQL is stored verbatim', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  const title = "'); DROP TABLE books;--";
  const res = await app.inject({
    method: 'POST',
    url: '/bookapi/books',
    headers,
    payload: { title, author: 'Bobby' },
  });
  assert.equal(res.statusCode, 201);
  const list = await app.inject({ method: 'GET', url: '/bookapi/books', headers });
  assert.equal(body<{ Books: { title: string }[] }>(list).Books[0]?.title, title);
});

test('a title or author of invisible characters only is refused; marks and fillers inside real text are kept', async (t) => {
  const { app, db } = await build(t);
  const { headers } = await signupAndLogin(app);
  const post = (title: string, author: string) =>
    app.inject({ method: 'POST', url: '/bookapi/books', headers, payload: { title, author } });
  const blanks = [
    '\u200b',
    '\u3164',
    '\uffa0',
    '\u115f',
    '\u1160',
    '\u2800',
    '\u034f',
    '\ufe0f',
    '\u0301',
    '\u00ad',
    ' \u3164 \u2800 ',
  ];
  for (const blank of blanks) {
    for (const [title, author] of [
      [blank, 'Someone'],
      ['Something', blank],
    ] as const) {
      const res = await post(title, author);
      assert.equal(res.statusCode, 400, `${JSON.stringify(title)} by ${JSON.stringify(author)}`);
      assert.equal(body(res).message, 'Invalid input!');
    }
  }
  assert.equal((await db.selectFrom('books').select('id').execute()).length, 0);
  for (const [title, author] of [
    ['Cafe\u0301', 'Anonyme'],
    ['한국어', '\u3164김'],
    ['I \u2764\ufe0f books', 'Heart'],
    ['ภาษาไทย', 'ผู้แต่ง'],
  ] as const)
    assert.equal((await post(title, author)).statusCode, 201, title);
});
