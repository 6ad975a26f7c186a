import assert from 'node:assert/strict';
import { test } from 'node:test';
import { publicRoute } from '../../src/auth/decorators.js';
import { body, build, signupAndLogin } from '../helpers.js';

test('malformed JSON answers 400 with a message and a code', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  for (const payload of ['{"title": "x",', '{title: x}', 'nul', '{"a":1}garbage']) {
    const res = await app.inject({
      method: 'POST',
      url: '/bookapi/books',
      headers: { ...headers, 'content-type': 'application/json' },
      payload,
    });
    assert.equal(res.statusCode, 400, payload);
    assert.equal(body(res).code, 'INVALID_JSON');
    assert.match(String(body(res).message), /^Malformed JSON body/);
  }
});

test('a body over 100 KB answers 413', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  const res = await app.inject({
    method: 'POST',
    url: '/bookapi/books',
    headers,
    payload: { title: 'x'.repeat(101 * 1024), author: 'y' },
  });
  assert.equal(res.statusCode, 413);
  assert.deepEqual(body(res), {
    message: 'Request body is too large (limit: 100 KB)',
    code: 'BODY_TOO_LARGE',
  });
});

test('a non-JSON content type answers 415', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
    const res = await app.inject({
      method: 'POST',
      url: '/bookapi/books',
      headers: { ...headers, 'content-type': type },
      payload: 'title=x&author=y',
    });
    assert.equal(res.statusCode, 415, type);
    assert.equal(body(res).code, 'UNSUPPORTED_MEDIA_TYPE');
  }
});

test('an unknown route answers 404 JSON', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ method: 'GET', url: '/nope?x=1' });
  assert.equal(res.statusCode, 404);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.deepEqual(body(res), { message: 'Route GET /nope not found', code: 'ROUTE_NOT_FOUND' });
});

test('an unexpected fault answers 500 "Internal server error" with no stack or detail', async (t) => {
  const { app } = await build(t);
  app.get(
    '/boom',
    publicRoute(async () => {
      throw new Error('secret internal detail at /srv/app/db.ts:42');
    }),
  );
  const res = await app.inject({ method: 'GET', url: '/boom' });
  assert.equal(res.statusCode, 500);
  assert.deepEqual(body(res), { message: 'Internal server error', code: 'INTERNAL_ERROR' });
  assert.equal(res.body.includes('secret'), false);
  assert.equal(res.body.includes('.ts'), false);
});

test('a database that went away answers 500 without details, and /ready says 503', async (t) => {
  const { app, db } = await build(t);
  const { headers } = await signupAndLogin(app);
  await db.destroy();
  const res = await app.inject({ method: 'GET', url: '/bookapi/books', headers });
  assert.ok(res.statusCode >= 500, String(res.statusCode));
  assert.equal(res.body.includes('stack'), false);
  const ready = await app.inject({ method: 'GET', url: '/ready' });
  assert.equal(ready.statusCode, 503);
  assert.equal(body(ready).message, 'Service unavailable');
  assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
});

test('/health and /ready answer 200 without a token', async (t) => {
  const { app } = await build(t);
  assert.deepEqual(body(await app.inject({ method: 'GET', url: '/health' })), { status: 'ok' });
  assert.deepEqual(body(await app.inject({ method: 'GET', url: '/ready' })), { status: 'ready' });
});

test('a method the route does not serve answers 404 JSON, not 500', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ method: 'PUT', url: '/bookapi/books' });
  assert.equal(res.statusCode, 404);
  assert.equal(typeof body(res).message, 'string');
});
