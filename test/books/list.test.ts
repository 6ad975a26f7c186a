import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { addBook, body, build, signupAndLogin } from '../helpers.js';

type Books = { Books: { id: number; title: string; author: string }[] };

test('books are listed in id order with exactly one top-level key', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  const created = [];
  for (const title of ['C', 'A', 'B']) created.push(await addBook(app, headers, { title, author: 'X' }));
  const res = await app.inject({ method: 'GET', url: '/bookapi/books', headers });
  assert.equal(res.statusCode, 200);
  const answer = body<Books>(res);
  assert.deepEqual(Object.keys(answer), ['Books']);
  assert.deepEqual(
    answer.Books.map((b) => b.id),
    created.map((b) => b.id).sort((a, b) => a - b),
  );
  assert.deepEqual(Object.keys(answer.Books[0] ?? {}).sort(), [
    'author',
    'created_at',
    'id',
    'title',
    'updated_at',
  ]);
  assert.equal(res.headers.link, undefined);
});

test('limit and after page through the list; a full page announces the next in Link', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  for (let i = 1; i <= 5; i++) await addBook(app, headers, { title: `Book ${i}`, author: 'Author' });
  const seen: number[] = [];
  let url: string | undefined = '/bookapi/books?limit=2';
  let pages = 0;
  while (url) {
    const res: LightMyRequestResponse = await app.inject({ method: 'GET', url, headers });
    assert.equal(res.statusCode, 200);
    const page = body<Books>(res).Books;
    assert.ok(page.length <= 2);
    seen.push(...page.map((b) => b.id));
    const link = res.headers.link as string | undefined;
    url = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
    pages++;
  }
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  assert.equal(pages, 3);
});

test('the default page is 100 books and the maximum 1000', async (t) => {
  const { app, db } = await build(t);
  const { headers } = await signupAndLogin(app);
  const now = new Date().toISOString();
  const owner = await db.selectFrom('users').select('id').executeTakeFirstOrThrow();
  await db
    .insertInto('books')
    .values(
      Array.from({ length: 1001 }, (_, i) => ({
        title: `T${i}`,
        author: 'A',
        title_key: `t${i}`,
        author_key: 'a',
        owner_id: owner.id,
        created_at: now,
        updated_at: now,
      })),
    )
    .execute();
  const first = await app.inject({ method: 'GET', url: '/bookapi/books', headers });
  assert.equal(body<Books>(first).Books.length, 100);
  assert.equal(first.headers.link, '</bookapi/books?limit=100&after=100>; rel="next"');
  const max = await app.inject({ method: 'GET', url: '/bookapi/books?limit=1000', headers });
  assert.equal(body<Books>(max).Books.length, 1000);
  const tooMany = await app.inject({ method: 'GET', url: '/bookapi/books?limit=1001', headers });
  assert.equal(tooMany.statusCode, 400);
});

test('bad pagination parameters answer 400 with a message', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  for (const query of [
    'limit=0',
    'limit=-5',
    'limit=abc',
    'limit=2.5',
    'after=-1',
    'after=abc',
    'after=1e3',
    'after=0',
  ]) {
    const res = await app.inject({ method: 'GET', url: `/bookapi/books?${query}`, headers });
    assert.equal(res.statusCode, 400, query);
    assert.equal(typeof body(res).message, 'string', query);
  }
});

test('listing without a token answers 401 "A valid token is missing!"', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ method: 'GET', url: '/bookapi/books' });
  assert.equal(res.statusCode, 401);
  assert.deepEqual(body(res), { message: 'A valid token is missing!', code: 'TOKEN_MISSING' });
});
