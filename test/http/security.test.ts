import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build, signupAndLogin } from '../helpers.js';

test('security headers on every answer, errors included; no X-Powered-By', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  const answers = [
    await app.inject({ method: 'GET', url: '/bookapi/books', headers }),
    await app.inject({ method: 'GET', url: '/bookapi/books' }),
    await app.inject({ method: 'GET', url: '/nope' }),
    await app.inject({ method: 'POST', url: '/login', payload: {} }),
    await app.inject({ method: 'GET', url: '/health' }),
  ];
  for (const res of answers) {
    assert.equal(res.headers['x-content-type-options'], 'nosniff', `${res.statusCode}`);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.ok(res.headers['content-security-policy']);
    assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
    assert.equal(res.headers['x-powered-by'], undefined);
  }
});

test('CORS is off by default: no Access-Control-Allow-Origin for any origin', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({
    method: 'GET',
    url: '/health',
    headers: { origin: 'https://evil.example' },
  });
  assert.equal(res.headers['access-control-allow-origin'], undefined);
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/bookapi/books',
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
  });
  assert.equal(preflight.headers['access-control-allow-origin'], undefined);
});

test('with CORS_ORIGINS, only the listed origins are allowed', async (t) => {
  const { app } = await build(t, { CORS_ORIGINS: 'https://books.example, https://admin.example' });
  const good = await app.inject({
    method: 'GET',
    url: '/health',
    headers: { origin: 'https://books.example' },
  });
  assert.equal(good.headers['access-control-allow-origin'], 'https://books.example');
  const evil = await app.inject({
    method: 'GET',
    url: '/health',
    headers: { origin: 'https://evil.example' },
  });
  assert.equal(evil.headers['access-control-allow-origin'], undefined);
});

test('the password hash never appears in any answer', async (t) => {
  const { app, db } = await build(t);
  const { headers } = await signupAndLogin(app);
  const { password_hash } = await db.selectFrom('users').select('password_hash').executeTakeFirstOrThrow();
  const hashPart = password_hash.split('$').at(-1) ?? password_hash;
  for (const url of ['/bookapi/books', '/openapi.json']) {
    const res = await app.inject({ method: 'GET', url, headers });
    assert.equal(res.body.includes(hashPart), false, url);
    assert.equal(res.body.includes('password_hash'), false, url);
  }
});

test('with CORS_ORIGINS, a preflight from a listed origin is answered and reaches no handler', async (t) => {
  const { app } = await build(t, { CORS_ORIGINS: 'https://books.example' });
  const res = await app.inject({
    method: 'OPTIONS',
    url: '/bookapi/books',
    headers: {
      origin: 'https://books.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });
  assert.equal(res.statusCode, 204);
  assert.equal(res.headers['access-control-allow-origin'], 'https://books.example');
  assert.match(String(res.headers['access-control-allow-headers']), /authorization/);
  assert.equal(res.body, '');
});

test('with CORS_ORIGINS, every method of the API is allowed (PUT /me/password too); a bare OPTIONS is no error', async (t) => {
  const { app } = await build(t, { CORS_ORIGINS: 'https://books.example' });
  const res = await app.inject({
    method: 'OPTIONS',
    url: '/me/password',
    headers: { origin: 'https://books.example', 'access-control-request-method': 'PUT' },
  });
  assert.equal(res.statusCode, 204);
  const allowed = String(res.headers['access-control-allow-methods']).split(/,\s*/);
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) assert.ok(allowed.includes(method), method);
  const bare = await app.inject({ method: 'OPTIONS', url: '/bookapi/books' });
  assert.equal(bare.statusCode, 204);
  assert.equal(bare.headers['access-control-allow-origin'], undefined);
  assert.equal(bare.headers['x-content-type-options'], 'nosniff');
});
