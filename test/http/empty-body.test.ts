// Clients that send `Content-Type: application/json` on every request, bodies or not, over real HTTP.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addBook,
  build,
  loginPair,
  makeAdmin,
  type Pair,
  publicIdOf,
  status,
  type TestApp,
} from '../helpers.js';
import { EMPTY_BODIES, type EmptyBody, emptyJsonRequest, listen, rawRequest } from './wire.js';

const VARIANTS = Object.keys(EMPTY_BODIES) as EmptyBody[];

async function serve(t: Parameters<typeof build>[0]): Promise<TestApp & { port: number }> {
  const ctx = await build(t, { LOGIN_MAX_FAILURES: '1000', SIGNUP_IP_MAX: '1000' });
  return { ...ctx, port: await listen(ctx.app) };
}

const send = (port: number, method: string, url: string, variant: EmptyBody, pair?: Pair) =>
  rawRequest(port, emptyJsonRequest(method, url, variant, pair?.headers));

for (const variant of VARIANTS) {
  test(`POST /logout with Content-Type: application/json and an empty body (${variant}) ends the session`, async (t) => {
    const { app, port } = await serve(t);
    const pair = await loginPair(app);
    const other = await loginPair(app);
    const res = await send(port, 'POST', '/logout', variant, pair);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(JSON.parse(res.body), { message: 'Logged out' });
    assert.equal(await status(app, '/me', pair.headers), 401, 'the token is refused after logout');
    assert.equal(await status(app, '/me', other.headers), 200, 'the other session lives on');
  });

  test(`POST /logout/all with an empty JSON body (${variant}) ends every session`, async (t) => {
    const { app, port } = await serve(t);
    const pair = await loginPair(app);
    const other = await loginPair(app);
    const res = await send(port, 'POST', '/logout/all', variant, pair);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(JSON.parse(res.body), { message: 'Logged out of all sessions' });
    assert.equal(await status(app, '/me', pair.headers), 401);
    assert.equal(await status(app, '/me', other.headers), 401);
  });

  test(`DELETE /bookapi/books/:id with an empty JSON body (${variant}) deletes the book`, async (t) => {
    const { app, port } = await serve(t);
    const pair = await loginPair(app);
    const book = await addBook(app, pair.headers);
    const res = await send(port, 'DELETE', `/bookapi/books/${book.id}`, variant, pair);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(JSON.parse(res.body), { message: 'Book deleted' });
    assert.equal(await status(app, `/bookapi/books/${book.id}`, pair.headers), 404, 'the book is gone');
  });

  test(`DELETE /admin/users/:public_id with an empty JSON body (${variant}) deletes the user`, async (t) => {
    const { app, db, port } = await serve(t);
    await loginPair(app, 'root');
    await makeAdmin(db, 'root');
    const admin = await loginPair(app, 'root');
    const reader = await loginPair(app, 'reader');
    const res = await send(port, 'DELETE', `/admin/users/${await publicIdOf(db, 'reader')}`, variant, admin);
    assert.equal(res.status, 200, res.body);
    assert.equal(await status(app, '/me', reader.headers), 404, "the deleted user's token finds no user");
    const left = await db.selectFrom('users').select('username').execute();
    assert.deepEqual(
      left.map((u) => u.username),
      ['root'],
    );
  });

  test(`GET routes answer as usual with Content-Type: application/json (${variant})`, async (t) => {
    const { app, db, port } = await serve(t);
    await loginPair(app, 'root');
    await makeAdmin(db, 'root');
    const admin = await loginPair(app, 'root');
    const book = await addBook(app, admin.headers);
    for (const url of [
      '/bookapi/books',
      `/bookapi/books/${book.id}`,
      '/me',
      '/admin/users',
      '/health',
      '/ready',
      '/.well-known/jwks.json',
      '/openapi.json',
    ]) {
      const res = await send(port, 'GET', url, variant, admin);
      assert.equal(res.status, 200, `${url}: ${res.body}`);
    }
  });

  test(`routes that take a body still refuse an empty one (${variant})`, async (t) => {
    const { app, port } = await serve(t);
    const pair = await loginPair(app);
    const book = await addBook(app, pair.headers);
    const expected: [string, string, number, string, Pair?][] = [
      ['POST', '/signup', 400, 'INVALID_JSON'],
      ['POST', '/login', 401, 'INVALID_CREDENTIALS'],
      ['POST', '/token/refresh', 401, 'REFRESH_INVALID'],
      ['POST', '/bookapi/books', 400, 'INVALID_INPUT', pair],
      ['POST', '/bookapi/addbook', 400, 'INVALID_INPUT', pair],
      ['PATCH', `/bookapi/books/${book.id}`, 400, 'INVALID_INPUT', pair],
      ['PUT', '/me/password', 400, 'INVALID_JSON', pair],
      ['DELETE', '/me', 400, 'INVALID_JSON', pair],
    ];
    for (const [method, url, code, errorCode, auth] of expected) {
      const res = await send(port, method, url, variant, auth);
      assert.equal(res.status, code, `${method} ${url}: ${res.body}`);
      assert.equal(JSON.parse(res.body).code, errorCode, `${method} ${url}`);
    }
    const signupRes = await send(port, 'POST', '/signup', variant);
    assert.equal(JSON.parse(signupRes.body).message, 'Body is empty but Content-Type is application/json');
    assert.equal(await status(app, '/me', pair.headers), 200, 'the account was not deleted');
    assert.equal(await status(app, `/bookapi/books/${book.id}`, pair.headers), 200);
  });
}

test('an unknown route with an empty JSON body is a 404, not a 400', async (t) => {
  const { port } = await serve(t);
  const res = await send(port, 'POST', '/nowhere', 'Content-Length: 0');
  assert.equal(res.status, 404, res.body);
  assert.equal(JSON.parse(res.body).code, 'ROUTE_NOT_FOUND');
});

test('a bodyless route still parses a body that is sent, and refuses a malformed one', async (t) => {
  const { app, port } = await serve(t);
  const pair = await loginPair(app);
  const request = (payload: string) =>
    `POST /logout HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\n` +
    `x-access-token: ${pair.token}\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`;
  for (const payload of ['{"a":', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}']) {
    const res = await rawRequest(port, request(payload));
    assert.equal(res.status, 400, payload);
    assert.equal(JSON.parse(res.body).code, 'INVALID_JSON', payload);
  }
  assert.equal(await status(app, '/me', pair.headers), 200, 'a refused logout ends nothing');
  const res = await rawRequest(port, request('{}'));
  assert.equal(res.status, 200, res.body);
  assert.equal(await status(app, '/me', pair.headers), 401);
});
