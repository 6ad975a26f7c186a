import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addBook, body, build, makeAdmin, signupAndLogin } from '../helpers.js';

async function twoUsers(t: Parameters<typeof build>[0]) {
  const ctx = await build(t);
  const owner = await signupAndLogin(ctx.app, 'owner');
  const other = await signupAndLogin(ctx.app, 'other');
  const book = await addBook(ctx.app, owner.headers);
  return { ...ctx, owner, other, book };
}

test('GET /bookapi/books/:id answers the book, or 404 "book does not exist"', async (t) => {
  const { app, other, book } = await twoUsers(t);
  const res = await app.inject({ method: 'GET', url: `/bookapi/books/${book.id}`, headers: other.headers });
  assert.equal(res.statusCode, 200);
  assert.equal(body(res).title, book.title);
  const missing = await app.inject({ method: 'GET', url: '/bookapi/books/999', headers: other.headers });
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(body(missing), { message: 'book does not exist', code: 'BOOK_NOT_FOUND' });
});

test('malformed ids answer 400 on every book route', async (t) => {
  const { app, owner } = await twoUsers(t);
  for (const id of ['abc', '-1', '0', '1e3', '1.5', '01', '1%20OR%201=1', '9'.repeat(25), '%00']) {
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await app.inject({
        method,
        url: `/bookapi/books/${id}`,
        headers: owner.headers,
        ...(method === 'PATCH' ? { payload: { title: 'x' } } : {}),
      });
      assert.equal(res.statusCode, 400, `${method} ${id}`);
      assert.equal(typeof body(res).message, 'string');
    }
  }
});

test('the owner can PATCH title and/or author; the answer is the updated book', async (t) => {
  const { app, owner, book, clock } = await twoUsers(t);
  clock.advance(60);
  const res = await app.inject({
    method: 'PATCH',
    url: `/bookapi/books/${book.id}`,
    headers: owner.headers,
    payload: { title: '  The Hobbit, or There and Back Again ' },
  });
  assert.equal(res.statusCode, 200);
  const updated = body<{ title: string; author: string; created_at: string; updated_at: string }>(res);
  assert.equal(updated.title, 'The Hobbit, or There and Back Again');
  assert.equal(updated.author, book.author);
  assert.notEqual(updated.updated_at, updated.created_at);
  const author = await app.inject({
    method: 'PATCH',
    url: `/bookapi/books/${book.id}`,
    headers: owner.headers,
    payload: { author: 'Tolkien' },
  });
  assert.equal(body(author).author, 'Tolkien');
  assert.equal(body(author).title, 'The Hobbit, or There and Back Again');
});

test('PATCH with nothing to change or bad fields answers 400 "Invalid input!"', async (t) => {
  const { app, owner, book } = await twoUsers(t);
  for (const payload of [{}, { owner_id: 2 }, { title: '' }, { title: 5 }, { author: 't'.repeat(257) }]) {
    const res = await app.inject({
      method: 'PATCH',
      url: `/bookapi/books/${book.id}`,
      headers: owner.headers,
      payload,
    });
    assert.equal(res.statusCode, 400, JSON.stringify(payload));
    assert.equal(body(res).message, 'Invalid input!');
  }
});

test('PATCH into a duplicate of another book answers 409 and changes nothing', async (t) => {
  const { app, owner, book } = await twoUsers(t);
  const second = await addBook(app, owner.headers, { title: 'Dune', author: 'Frank Herbert' });
  const res = await app.inject({
    method: 'PATCH',
    url: `/bookapi/books/${second.id}`,
    headers: owner.headers,
    payload: { title: book.title.toUpperCase(), author: book.author },
  });
  assert.equal(res.statusCode, 409);
  assert.equal(body(res).message, 'Book with same title already exists!');
  const still = await app.inject({
    method: 'GET',
    url: `/bookapi/books/${second.id}`,
    headers: owner.headers,
  });
  assert.equal(body(still).title, 'Dune');
});

test("another user cannot PATCH or DELETE someone's book: 403 and the book is unchanged", async (t) => {
  const { app, other, owner, book } = await twoUsers(t);
  const patch = await app.inject({
    method: 'PATCH',
    url: `/bookapi/books/${book.id}`,
    headers: other.headers,
    payload: { title: 'Defaced' },
  });
  assert.equal(patch.statusCode, 403);
  assert.equal(body(patch).code, 'FORBIDDEN');
  const del = await app.inject({
    method: 'DELETE',
    url: `/bookapi/books/${book.id}`,
    headers: other.headers,
  });
  assert.equal(del.statusCode, 403);
  const still = await app.inject({ method: 'GET', url: `/bookapi/books/${book.id}`, headers: owner.headers });
  assert.equal(still.statusCode, 200);
  assert.equal(body(still).title, book.title);
});

test('an admin may PATCH and DELETE any book', async (t) => {
  const { app, db, other, book } = await twoUsers(t);
  await makeAdmin(db, 'other');
  const patch = await app.inject({
    method: 'PATCH',
    url: `/bookapi/books/${book.id}`,
    headers: other.headers,
    payload: { title: 'Moderated' },
  });
  assert.equal(patch.statusCode, 200);
  const del = await app.inject({
    method: 'DELETE',
    url: `/bookapi/books/${book.id}`,
    headers: other.headers,
  });
  assert.equal(del.statusCode, 200);
});

test('admin rights are read per request: a demoted admin is refused at once', async (t) => {
  const { app, db, other, book } = await twoUsers(t);
  await makeAdmin(db, 'other');
  await db.updateTable('users').set({ admin: 0 }).where('username', '=', 'other').execute();
  const del = await app.inject({
    method: 'DELETE',
    url: `/bookapi/books/${book.id}`,
    headers: other.headers,
  });
  assert.equal(del.statusCode, 403);
});

test('the owner deletes a book: 200 "Book deleted", then 404 "book does not exist"', async (t) => {
  const { app, owner, book } = await twoUsers(t);
  const res = await app.inject({
    method: 'DELETE',
    url: `/bookapi/books/${book.id}`,
    headers: owner.headers,
  });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(body(res), { message: 'Book deleted' });
  const again = await app.inject({
    method: 'DELETE',
    url: `/bookapi/books/${book.id}`,
    headers: owner.headers,
  });
  assert.equal(again.statusCode, 404);
  assert.deepEqual(body(again), { message: 'book does not exist', code: 'BOOK_NOT_FOUND' });
  const get = await app.inject({ method: 'GET', url: `/bookapi/books/${book.id}`, headers: owner.headers });
  assert.equal(get.statusCode, 404);
});

test('a deleted id is never reused by a new book', async (t) => {
  const { app, owner, book } = await twoUsers(t);
  await app.inject({ method: 'DELETE', url: `/bookapi/books/${book.id}`, headers: owner.headers });
  const next = await addBook(app, owner.headers, { title: 'New', author: 'Book' });
  assert.ok(next.id > book.id);
});

test('PATCH and DELETE without a token answer 401 and change nothing', async (t) => {
  const { app, owner, book } = await twoUsers(t);
  const patch = await app.inject({
    method: 'PATCH',
    url: `/bookapi/books/${book.id}`,
    payload: { title: 'x' },
  });
  const del = await app.inject({ method: 'DELETE', url: `/bookapi/books/${book.id}` });
  assert.equal(patch.statusCode, 401);
  assert.equal(del.statusCode, 401);
  const still = await app.inject({ method: 'GET', url: `/bookapi/books/${book.id}`, headers: owner.headers });
  assert.equal(body(still).title, book.title);
});

test('concurrent PATCHes of different fields both stay: neither overwrites the other with what it read', async (t) => {
  const { app, owner } = await twoUsers(t);
  for (let i = 0; i < 10; i++) {
    const book = await addBook(app, owner.headers, { title: `Old title ${i}`, author: `Old author ${i}` });
    const patch = (payload: object) =>
      app.inject({ method: 'PATCH', url: `/bookapi/books/${book.id}`, headers: owner.headers, payload });
    const answers = await Promise.all([
      patch({ title: `New title ${i}` }),
      patch({ author: `New author ${i}` }),
    ]);
    assert.deepEqual(
      answers.map((r) => r.statusCode),
      [200, 200],
    );
    const stored = body(
      await app.inject({ method: 'GET', url: `/bookapi/books/${book.id}`, headers: owner.headers }),
    );
    assert.deepEqual([stored.title, stored.author], [`New title ${i}`, `New author ${i}`], `round ${i}`);
  }
});
