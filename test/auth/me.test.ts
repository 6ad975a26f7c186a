import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  addBook,
  body,
  build,
  login,
  loginPair,
  ORIGINAL_USER,
  type Pair,
  refresh,
  status,
} from '../helpers.js';

const NEW_PASSWORD = 'correct horse battery staple';

function changePassword(app: FastifyInstance, pair: Pair, current: string, next: string) {
  return app.inject({
    method: 'PUT',
    url: '/me/password',
    headers: pair.headers,
    payload: { current_password: current, new_password: next },
  });
}

test('GET /me answers the user: public_id, username, admin, created_at — never the hash', async (t) => {
  const { app, clock } = await build(t);
  const pair = await loginPair(app);
  const res = await app.inject({ method: 'GET', url: '/me', headers: pair.headers });
  assert.equal(res.statusCode, 200);
  const me = body(res);
  assert.deepEqual(Object.keys(me).sort(), ['admin', 'created_at', 'public_id', 'username']);
  assert.equal(me.username, ORIGINAL_USER.username);
  assert.equal(me.admin, false);
  assert.equal(me.created_at, new Date(clock.now()).toISOString());
  assert.equal((await app.inject({ method: 'GET', url: '/me' })).statusCode, 401);
});

test('PUT /me/password changes it, keeps this session and ends every other one', async (t) => {
  const { app } = await build(t);
  const current = await loginPair(app);
  const other = await loginPair(app);
  const res = await changePassword(app, current, ORIGINAL_USER.password, NEW_PASSWORD);
  assert.equal(res.statusCode, 200);
  assert.deepEqual(body(res), { message: 'Password changed' });
  assert.equal(await status(app, '/me', current.headers), 200, 'this session lives on');
  assert.equal(await status(app, '/me', other.headers), 401, 'the other session ended');
  assert.equal((await refresh(app, other.refresh_token)).statusCode, 401);
  assert.equal((await login(app)).statusCode, 401, 'the old password no longer works');
  assert.equal((await login(app, { ...ORIGINAL_USER, password: NEW_PASSWORD })).statusCode, 201);
});

test('PUT /me/password with the wrong current password answers 401 and changes nothing', async (t) => {
  const { app } = await build(t);
  const pair = await loginPair(app);
  const res = await changePassword(app, pair, 'not my password', NEW_PASSWORD);
  assert.equal(res.statusCode, 401);
  assert.equal(body(res).message, 'Password is incorrect!');
  assert.equal((await login(app)).statusCode, 201);
});

test('PUT /me/password refuses a common, short or long new password with 400', async (t) => {
  const { app } = await build(t);
  const pair = await loginPair(app);
  for (const next of ['password1234', 'Password123', 'short', 'x'.repeat(129)]) {
    const res = await changePassword(app, pair, ORIGINAL_USER.password, next);
    assert.equal(res.statusCode, 400, next);
  }
  assert.equal((await login(app)).statusCode, 201);
});

test('password change and account deletion need a fresh login: 10 minutes, not from a refresh', async (t) => {
  const { app, clock } = await build(t);
  const pair = await loginPair(app);
  clock.advance(10 * 60 + 1);
  const stale = await changePassword(app, pair, ORIGINAL_USER.password, NEW_PASSWORD);
  assert.equal(stale.statusCode, 401);
  assert.deepEqual(body(stale), { message: 'Fresh login required!', code: 'FRESH_LOGIN_REQUIRED' });
  const del = await app.inject({
    method: 'DELETE',
    url: '/me',
    headers: pair.headers,
    payload: { password: ORIGINAL_USER.password },
  });
  assert.equal(body(del).message, 'Fresh login required!');
  const again = await loginPair(app);
  assert.equal((await changePassword(app, again, ORIGINAL_USER.password, NEW_PASSWORD)).statusCode, 200);
});

test('DELETE /me deletes the account and its books; its tokens then get 404 "User not found!"', async (t) => {
  const { app, db } = await build(t);
  const pair = await loginPair(app);
  const keeper = await loginPair(app, 'keeper');
  await addBook(app, pair.headers);
  await addBook(app, keeper.headers, { title: 'Kept', author: 'Keeper' });
  const wrong = await app.inject({
    method: 'DELETE',
    url: '/me',
    headers: pair.headers,
    payload: { password: 'nope nope' },
  });
  assert.equal(wrong.statusCode, 401);
  const res = await app.inject({
    method: 'DELETE',
    url: '/me',
    headers: pair.headers,
    payload: { password: ORIGINAL_USER.password },
  });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(body(res), { message: 'Account deleted' });
  const after = await app.inject({ method: 'GET', url: '/bookapi/books', headers: pair.headers });
  assert.equal(after.statusCode, 404);
  assert.equal(body(after).message, 'User not found!');
  assert.equal((await refresh(app, pair.refresh_token)).statusCode, 401);
  const titles = (await db.selectFrom('books').select('title').execute()).map((b) => b.title);
  assert.deepEqual(titles, ['Kept']);
  assert.equal((await login(app)).statusCode, 401);
});
