// The five tests of the Flask tutorial's tests/test_book_api.py, ported as they were.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { body, build, login, ORIGINAL_USER, signup, signupAndLogin } from './helpers.js';

test('a user can register', async (t) => {
  const { app } = await build(t);
  const res = await signup(app, ORIGINAL_USER);
  assert.equal(res.statusCode, 201);
  assert.deepEqual(body(res), { message: 'registered successfully' });
});

test('a registered user can log in and gets a token', async (t) => {
  const { app } = await build(t);
  await signup(app, ORIGINAL_USER);
  const res = await login(app, ORIGINAL_USER);
  assert.equal(res.statusCode, 201);
  assert.match(body<{ token: string }>(res).token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
});

test('a logged-in user gets exactly {"Books": []} from an empty library', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  const res = await app.inject({ method: 'GET', url: '/bookapi/books', headers });
  assert.equal(res.statusCode, 200);
  assert.equal(res.body, '{"Books":[]}');
});

test('an invalid token cannot get books', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({
    method: 'GET',
    url: '/bookapi/books',
    headers: { 'content-type': 'application/json', 'x-access-token': 'invalid-token' },
  });
  assert.equal(res.statusCode, 401);
  assert.equal(body(res).message, 'Invalid token!');
});

test('a logged-in user can add a book', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  const res = await app.inject({
    method: 'POST',
    url: '/bookapi/addbook',
    headers,
    payload: { title: 'Authentication decorators', author: 'CircleCI' },
  });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(body(res), { message: 'new book created' });
});
