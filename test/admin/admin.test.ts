import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  addBook,
  body,
  build,
  login,
  loginPair,
  makeAdmin,
  ORIGINAL_USER,
  type Pair,
  publicIdOf,
  refresh,
  status,
} from '../helpers.js';

async function setup(t: Parameters<typeof build>[0]) {
  const ctx = await build(t);
  await loginPair(ctx.app, 'root');
  await makeAdmin(ctx.db, 'root');
  const admin = await loginPair(ctx.app, 'root');
  const user = await loginPair(ctx.app, 'reader');
  const readerId = await publicIdOf(ctx.db, 'reader');
  return { ...ctx, admin, user, readerId };
}

const patch = (app: FastifyInstance, pair: Pair, publicId: string, payload: unknown) =>
  app.inject({
    method: 'PATCH',
    url: `/admin/users/${publicId}`,
    headers: pair.headers,
    payload: payload as object,
  });

test('admin routes: 401 without a token, 403 "Admin privileges required!" for a user', async (t) => {
  const { app, user, readerId } = await setup(t);
  for (const [method, url] of [
    ['GET', '/admin/users'],
    ['PATCH', `/admin/users/${readerId}`],
    ['DELETE', `/admin/users/${readerId}`],
  ] as const) {
    assert.equal((await app.inject({ method, url, payload: { admin: true } })).statusCode, 401, url);
    const res = await app.inject({ method, url, headers: user.headers, payload: { admin: true } });
    assert.equal(res.statusCode, 403, url);
    assert.deepEqual(body(res), { message: 'Admin privileges required!', code: 'ADMIN_REQUIRED' });
  }
  assert.equal((await app.inject({ method: 'GET', url: '/me', headers: user.headers })).json().admin, false);
});

test('GET /admin/users lists users with their flags, paginated by public_id', async (t) => {
  const { app, admin } = await setup(t);
  await loginPair(app, 'third');
  const first = await app.inject({ method: 'GET', url: '/admin/users?limit=2', headers: admin.headers });
  assert.equal(first.statusCode, 200);
  const page = body<{ Users: { username: string; public_id: string; disabled: boolean }[] }>(first).Users;
  assert.deepEqual(
    page.map((u) => u.username),
    ['root', 'reader'],
  );
  assert.deepEqual(Object.keys(page[0] ?? {}).sort(), [
    'admin',
    'created_at',
    'disabled',
    'public_id',
    'username',
  ]);
  const next = /^<([^>]+)>; rel="next"$/.exec(String(first.headers.link))?.[1];
  assert.equal(next, `/admin/users?limit=2&after=${page[1]?.public_id}`);
  const second = await app.inject({ method: 'GET', url: String(next), headers: admin.headers });
  assert.deepEqual(
    body<{ Users: { username: string }[] }>(second).Users.map((u) => u.username),
    ['third'],
  );
  const bad = await app.inject({
    method: 'GET',
    url: '/admin/users?after=not-a-uuid',
    headers: admin.headers,
  });
  assert.equal(bad.statusCode, 400);
});

test('disabling a user ends their sessions at once; their login answers 403 only with the right password', async (t) => {
  const { app, admin, user, readerId } = await setup(t);
  const res = await patch(app, admin, readerId, { disabled: true });
  assert.equal(res.statusCode, 200);
  assert.equal(body(res).disabled, true);
  const refused = await app.inject({ method: 'GET', url: '/bookapi/books', headers: user.headers });
  assert.equal(refused.statusCode, 401);
  assert.equal((await refresh(app, user.refresh_token)).statusCode, 401);
  const right = await login(app, { username: 'reader', password: ORIGINAL_USER.password });
  assert.equal(right.statusCode, 403);
  assert.deepEqual(body(right), { message: 'Account disabled!', code: 'ACCOUNT_DISABLED' });
  const wrong = await login(app, { username: 'reader', password: 'wrong password' });
  assert.equal(wrong.statusCode, 401, 'a guesser learns nothing about the account');
  assert.equal((await patch(app, admin, readerId, { disabled: false })).statusCode, 200);
  assert.equal((await login(app, { username: 'reader', password: ORIGINAL_USER.password })).statusCode, 201);
});

test('granting and revoking admin takes effect on the very next request', async (t) => {
  const { app, admin, user, readerId } = await setup(t);
  assert.equal(await status(app, '/admin/users', user.headers), 403);
  assert.equal(body(await patch(app, admin, readerId, { admin: true })).admin, true);
  assert.equal(await status(app, '/admin/users', user.headers), 200, 'promoted without a new token');
  assert.equal((await patch(app, admin, readerId, { admin: false })).statusCode, 200);
  assert.equal(await status(app, '/admin/users', user.headers), 403, 'demoted without waiting for expiry');
});

test('admins may change and delete any book', async (t) => {
  const { app, admin, user } = await setup(t);
  const book = await addBook(app, user.headers);
  const patched = await app.inject({
    method: 'PATCH',
    url: `/bookapi/books/${book.id}`,
    headers: admin.headers,
    payload: { author: 'Moderated' },
  });
  assert.equal(patched.statusCode, 200);
  const deleted = await app.inject({
    method: 'DELETE',
    url: `/bookapi/books/${book.id}`,
    headers: admin.headers,
  });
  assert.equal(deleted.statusCode, 200);
});

test('DELETE /admin/users/:public_id removes the user and their books; their token then gets 404', async (t) => {
  const { app, db, admin, user, readerId } = await setup(t);
  await addBook(app, user.headers);
  const res = await app.inject({ method: 'DELETE', url: `/admin/users/${readerId}`, headers: admin.headers });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(body(res), { message: 'User deleted' });
  const after = await app.inject({ method: 'GET', url: '/bookapi/books', headers: user.headers });
  assert.equal(after.statusCode, 404);
  assert.equal(body(after).message, 'User not found!');
  assert.equal((await db.selectFrom('books').select('id').execute()).length, 0);
  const again = await app.inject({
    method: 'DELETE',
    url: `/admin/users/${readerId}`,
    headers: admin.headers,
  });
  assert.equal(again.statusCode, 404);
});

test('the last active admin cannot be demoted, disabled or deleted', async (t) => {
  const { app, db, admin } = await setup(t);
  const rootId = await publicIdOf(db, 'root');
  for (const payload of [{ admin: false }, { disabled: true }]) {
    const res = await patch(app, admin, rootId, payload);
    assert.equal(res.statusCode, 409, JSON.stringify(payload));
    assert.equal(body(res).code, 'LAST_ADMIN');
  }
  const del = await app.inject({ method: 'DELETE', url: `/admin/users/${rootId}`, headers: admin.headers });
  assert.equal(del.statusCode, 409);
  assert.equal(await status(app, '/admin/users', admin.headers), 200);
});

test('admin changes need a fresh login: a refreshed admin token gets 401 "Fresh login required!"', async (t) => {
  const { app, admin, readerId } = await setup(t);
  const refreshed = body<{ token: string }>(await refresh(app, admin.refresh_token)).token;
  const headers = { authorization: `Bearer ${refreshed}` };
  assert.equal(await status(app, '/admin/users', headers), 200, 'reading needs no fresh login');
  const res = await app.inject({
    method: 'PATCH',
    url: `/admin/users/${readerId}`,
    headers,
    payload: { admin: true },
  });
  assert.equal(res.statusCode, 401);
  assert.equal(body(res).message, 'Fresh login required!');
});

test('bad admin requests answer 4xx with a message', async (t) => {
  const { app, admin, readerId } = await setup(t);
  const cases: [string, unknown, number][] = [
    ['not-a-uuid', { admin: true }, 400],
    [readerId, {}, 400],
    [readerId, { admin: 'yes' }, 400],
    [readerId, { username: 'renamed' }, 400],
    ['00000000-0000-4000-8000-000000000000', { admin: true }, 404],
  ];
  for (const [id, payload, expected] of cases) {
    const res = await patch(app, admin, id, payload);
    assert.equal(res.statusCode, expected, `${id} ${JSON.stringify(payload)}`);
    assert.equal(typeof body(res).message, 'string');
  }
});

test('ADMIN_USERNAME/ADMIN_PASSWORD create the first admin at start, once', async (t) => {
  const env = { ADMIN_USERNAME: 'boss', ADMIN_PASSWORD: 'a long admin passphrase' };
  const { app, db } = await build(t, env);
  const res = await login(app, { username: 'boss', password: env.ADMIN_PASSWORD });
  assert.equal(res.statusCode, 201);
  const row = await db
    .selectFrom('users')
    .select(['admin'])
    .where('username', '=', 'boss')
    .executeTakeFirstOrThrow();
  assert.equal(row.admin, 1);
});

test('GET /admin/users?q= keeps names containing q, ignoring case and width, with the filter in Link', async (t) => {
  const { app, db } = await build(t);
  const root = await loginPair(app, 'root');
  await makeAdmin(db, 'root');
  for (const name of ['Alice', 'malice', 'bob', 'ALICIA', 'al%ice', 'al_ice'])
    await app.inject({
      method: 'POST',
      url: '/signup',
      payload: { username: name, password: 'testing_p@ssword' },
    });
  const names = async (url: string) => {
    const res = await app.inject({ method: 'GET', url, headers: root.headers });
    assert.equal(res.statusCode, 200, res.body);
    return {
      names: body<{ Users: { username: string }[] }>(res).Users.map((u) => u.username),
      link: res.headers.link,
    };
  };
  assert.deepEqual((await names('/admin/users?q=ali')).names, ['Alice', 'malice', 'ALICIA']);
  assert.deepEqual((await names('/admin/users?q=%EF%BC%A1%EF%BC%AC%EF%BC%A9')).names, [
    'Alice',
    'malice',
    'ALICIA',
  ]);
  // LIKE's metacharacters are plain characters here.
  assert.deepEqual((await names('/admin/users?q=%25')).names, ['al%ice']);
  assert.deepEqual((await names('/admin/users?q=_')).names, ['al_ice']);
  const page = await names('/admin/users?q=ali&limit=2');
  assert.deepEqual(page.names, ['Alice', 'malice']);
  const next = /<([^>]+)>; rel="next"/.exec(String(page.link))?.[1] ?? '';
  assert.match(next, /^\/admin\/users\?q=ali&limit=2&after=/);
  assert.deepEqual((await names(next)).names, ['ALICIA']);
  for (const bad of [`q=${'x'.repeat(65)}`, 'q=%00'])
    assert.equal(
      (await app.inject({ method: 'GET', url: `/admin/users?${bad}`, headers: root.headers })).statusCode,
      400,
      bad,
    );
});
