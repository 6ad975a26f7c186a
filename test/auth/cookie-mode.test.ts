// The web client's refresh token: an HttpOnly, SameSite=Strict cookie scoped to /token, issued
// only on request; the cookie endpoints refuse cross-site requests. API clients see no change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { body, build, loginPair, ORIGINAL_USER } from '../helpers.js';

/** What the web client sends: the mode, and the binding secret it keeps in its origin's storage. */
const BINDING = 'b'.repeat(43);
const WEB = { 'x-bookapi-refresh': 'cookie', 'x-bookapi-binding': BINDING };

function cookieOf(res: LightMyRequestResponse): { value: string; attributes: string } | undefined {
  const header = res.headers['set-cookie'];
  const line = (Array.isArray(header) ? header : header ? [header] : []).find((c) =>
    c.startsWith('bookapi_refresh='),
  );
  if (!line) return undefined;
  const [pair = '', ...rest] = line.split(';');
  return { value: pair.slice('bookapi_refresh='.length), attributes: rest.map((a) => a.trim()).join('; ') };
}

async function webLogin(app: FastifyInstance, headers: Record<string, string> = {}) {
  await app.inject({ method: 'POST', url: '/signup', payload: ORIGINAL_USER });
  return app.inject({
    method: 'POST',
    url: '/login',
    payload: ORIGINAL_USER,
    headers: { ...WEB, ...headers },
  });
}

const refresh = (app: FastifyInstance, cookie: string | undefined, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/token/refresh',
    headers: { ...WEB, ...(cookie ? { cookie: `bookapi_refresh=${cookie}` } : {}), ...headers },
  });

test('login in cookie mode: the refresh token only in an HttpOnly, SameSite=Strict cookie for /token', async (t) => {
  const { app } = await build(t);
  const res = await webLogin(app);
  assert.equal(res.statusCode, 201);
  const json = body(res);
  assert.equal(json.refresh_token, undefined, 'not in the JSON');
  assert.equal(typeof json.token, 'string');
  const cookie = cookieOf(res);
  assert.ok(cookie);
  assert.match(cookie.value, /^[A-Za-z0-9_-]{43}$/);
  const attributes = cookie.attributes.toLowerCase().split('; ');
  for (const a of ['httponly', 'samesite=strict', 'path=/token', 'max-age=2592000'])
    assert.ok(attributes.includes(a), `${a} in ${cookie.attributes}`);
  assert.equal(attributes.includes('secure'), false, 'plain HTTP (localhost development)');
  assert.equal(
    attributes.some((a) => a.startsWith('domain')),
    false,
  );
  // Over HTTPS (a proxy that says so, trusted): Secure.
  const { app: behindProxy } = await build(t, { TRUST_PROXY: '127.0.0.1' });
  const secure = cookieOf(await webLogin(behindProxy, { 'x-forwarded-proto': 'https' }));
  assert.ok(secure?.attributes.toLowerCase().split('; ').includes('secure'));
});

test('API clients keep the JSON contract: no cookie unless asked for', async (t) => {
  const { app } = await build(t);
  await app.inject({ method: 'POST', url: '/signup', payload: ORIGINAL_USER });
  const res = await app.inject({ method: 'POST', url: '/login', payload: ORIGINAL_USER });
  assert.equal(typeof body(res).refresh_token, 'string');
  assert.equal(res.headers['set-cookie'], undefined);
  const pair = await loginPair(app);
  const next = await app.inject({
    method: 'POST',
    url: '/token/refresh',
    payload: { refresh_token: pair.refresh_token },
  });
  assert.equal(next.statusCode, 201);
  assert.equal(typeof body(next).refresh_token, 'string');
  assert.equal(next.headers['set-cookie'], undefined);
});

test('refresh by cookie rotates it; the spent cookie is then reuse; a missing one is 401 and cleared', async (t) => {
  const { app } = await build(t, { REFRESH_REUSE_GRACE: '0' });
  const first = cookieOf(await webLogin(app))?.value;
  const rotated = await refresh(app, first);
  assert.equal(rotated.statusCode, 201, rotated.body);
  assert.equal(body(rotated).refresh_token, undefined);
  const second = cookieOf(rotated)?.value;
  assert.ok(second && second !== first);
  const token = body<{ token: string }>(rotated).token;
  assert.equal(
    (await app.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } }))
      .statusCode,
    200,
  );

  const replay = await refresh(app, first);
  assert.equal(replay.statusCode, 401);
  assert.equal(cookieOf(replay)?.value, '', 'the cookie is removed');
  assert.match(cookieOf(replay)?.attributes ?? '', /Max-Age=0/i);
  assert.equal((await refresh(app, second)).statusCode, 401, 'reuse ended the session');

  const none = await refresh(app, undefined);
  assert.equal(none.statusCode, 401);
  assert.equal(body(none).code, 'REFRESH_INVALID');
  assert.equal(cookieOf(none)?.value, '');
});

test('cross-site requests to the cookie endpoints are refused and change nothing', async (t) => {
  const { app } = await build(t);
  const cookie = cookieOf(await webLogin(app))?.value;
  const attempts: Record<string, string>[] = [
    { origin: 'https://evil.example' },
    { origin: 'null' },
    { 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'same-site' },
    { origin: 'http://localhost:8080', 'sec-fetch-site': 'same-origin' },
    { origin: 'https://localhost:80' },
  ];
  for (const headers of attempts) {
    const res = await refresh(app, cookie, headers);
    assert.equal(res.statusCode, 403, JSON.stringify(headers));
    assert.equal(body(res).code, 'CROSS_SITE_REQUEST');
    const out = await app.inject({
      method: 'POST',
      url: '/token/logout',
      headers: { ...WEB, cookie: `bookapi_refresh=${cookie}`, ...headers },
    });
    assert.equal(out.statusCode, 403, JSON.stringify(headers));
  }
  // A plain form post cannot set the header: refused too.
  const form = await app.inject({
    method: 'POST',
    url: '/token/logout',
    headers: { cookie: `bookapi_refresh=${cookie}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'a=b',
  });
  assert.ok(form.statusCode === 403 || form.statusCode === 415, `${form.statusCode}`);
  // Same origin, as the client sends it: still alive after all that.
  const host = { host: 'bookapi.test:5000' };
  const ok = await refresh(app, cookie, {
    ...host,
    origin: 'http://bookapi.test:5000',
    'sec-fetch-site': 'same-origin',
  });
  assert.equal(ok.statusCode, 201, ok.body);
});

test('logout by cookie ends the session even with an expired access token, and removes the cookie', async (t) => {
  const { app, clock } = await build(t);
  const login = await webLogin(app);
  const cookie = cookieOf(login)?.value;
  const token = body<{ token: string }>(login).token;
  clock.advance(16 * 60);
  const out = await app.inject({
    method: 'POST',
    url: '/token/logout',
    headers: { ...WEB, cookie: `bookapi_refresh=${cookie}` },
  });
  assert.equal(out.statusCode, 200);
  assert.deepEqual(body(out), { message: 'Logged out' });
  assert.equal(cookieOf(out)?.value, '');
  assert.equal((await refresh(app, cookie)).statusCode, 401);
  clock.advance(-16 * 60);
  assert.equal(
    (await app.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } }))
      .statusCode,
    401,
    'the access token of that session is refused too',
  );
  // Again, or with no cookie at all: still 200, nothing to end.
  const again = await app.inject({ method: 'POST', url: '/token/logout', headers: WEB });
  assert.equal(again.statusCode, 200);
});

test('POST /logout and /logout/all remove the cookie as well', async (t) => {
  const { app } = await build(t);
  const login = await webLogin(app);
  const headers = { authorization: `Bearer ${body<{ token: string }>(login).token}` };
  const out = await app.inject({ method: 'POST', url: '/logout/all', headers });
  assert.equal(out.statusCode, 200);
  assert.equal(cookieOf(out)?.value, '');
});

test('GET / serves JSON to API clients, and a page to browsers', async (t) => {
  const { app } = await build(t);
  const json = await app.inject({ method: 'GET', url: '/' });
  assert.equal(body(json).docs, '/docs');
  const page = await app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } });
  assert.equal(page.statusCode, 200);
  assert.match(String(page.headers['content-type']), /text\/html/);
  assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
  assert.doesNotMatch(String(page.headers['content-security-policy']), /unsafe-inline|unsafe-eval/);
});

test('cookie mode, the unusual but legal ways: JSON label with no body, any case, normalised origins', async (t) => {
  const { app } = await build(t);
  let cookie: string | undefined = cookieOf(await webLogin(app, { 'x-bookapi-refresh': 'COOKIE' }))?.value;
  assert.ok(cookie, 'COOKIE in capitals is cookie mode too');
  for (const headers of [
    { 'content-type': 'application/json', 'content-length': '0' },
    { 'content-type': 'application/json; charset=utf-8' },
    { host: 'API.Example.COM', origin: 'http://api.example.com' },
    { host: 'api.example.com:80', origin: 'http://api.example.com' },
  ]) {
    const res: LightMyRequestResponse = await app.inject({
      method: 'POST',
      url: '/token/refresh',
      headers: { ...WEB, cookie: `bookapi_refresh=${cookie}`, ...headers },
    });
    assert.equal(res.statusCode, 201, `${JSON.stringify(headers)}: ${res.body}`);
    cookie = cookieOf(res)?.value;
  }
});

test('cookie mode refuses what it cannot trust: a wrong header value, two cookies, a malformed one, a cross-site login', async (t) => {
  const { app, db } = await build(t);
  const bad = await webLogin(app, { 'x-bookapi-refresh': 'yes' });
  assert.equal(bad.statusCode, 400, 'never silently back to JSON mode');
  const cookie = cookieOf(await webLogin(app))?.value;
  const twice = await app.inject({
    method: 'POST',
    url: '/token/refresh',
    headers: { ...WEB, cookie: `bookapi_refresh=${'A'.repeat(43)}; bookapi_refresh=${cookie}` },
  });
  assert.equal(twice.statusCode, 401, 'a planted second cookie makes neither trusted');
  const huge = await refresh(app, 'x'.repeat(300));
  assert.equal(huge.statusCode, 401);
  assert.equal(cookieOf(huge)?.value, '', 'removed');
  assert.equal((await refresh(app, cookie)).statusCode, 201, 'the real one still works');

  const sessions = async () => (await db.selectFrom('sessions').select('id').execute()).length;
  const before = await sessions();
  const cross = await webLogin(app, { origin: 'https://evil.example' });
  assert.equal(cross.statusCode, 403);
  assert.equal(cross.headers['set-cookie'], undefined);
  assert.equal(await sessions(), before, 'refused before any session was made');
});

test('a cookie is bound to the client’s secret: taken or planted without it, it is refused and its session ends', async (t) => {
  const { app, db } = await build(t);
  // Alice's browser logs in; a page on another port of the same host gets her cookie (ports share cookies).
  const stolen = cookieOf(await webLogin(app))?.value;
  assert.ok(stolen);
  const withoutSecret = await app.inject({
    method: 'POST',
    url: '/token/refresh',
    headers: {
      'x-bookapi-refresh': 'cookie',
      'x-bookapi-binding': 'c'.repeat(43),
      cookie: `bookapi_refresh=${stolen}`,
    },
  });
  assert.equal(withoutSecret.statusCode, 401, 'another secret');
  assert.equal((await refresh(app, stolen)).statusCode, 401, 'and the session is over, for the owner too');

  // The JSON API cannot redeem a web client's cookie either.
  const second = cookieOf(await webLogin(app))?.value;
  const json = await app.inject({
    method: 'POST',
    url: '/token/refresh',
    payload: { refresh_token: second },
  });
  assert.equal(json.statusCode, 401);

  // Logging out by cookie needs the secret too: a page on another port cannot end the session.
  const third = cookieOf(await webLogin(app))?.value;
  const out = await app.inject({
    method: 'POST',
    url: '/token/logout',
    headers: {
      'x-bookapi-refresh': 'cookie',
      'x-bookapi-binding': 'c'.repeat(43),
      cookie: `bookapi_refresh=${third}`,
    },
  });
  assert.equal(out.statusCode, 200);
  assert.equal((await refresh(app, third)).statusCode, 201, 'still alive');

  // Cookie mode without a secret is refused at login, before any session exists.
  const before = (await db.selectFrom('sessions').select('id').execute()).length;
  const bare = await app.inject({
    method: 'POST',
    url: '/login',
    payload: ORIGINAL_USER,
    headers: { 'x-bookapi-refresh': 'cookie' },
  });
  assert.equal(bare.statusCode, 400);
  assert.equal((await db.selectFrom('sessions').select('id').execute()).length, before);
  const stored = await db.selectFrom('sessions').select('binding').where('binding', 'is not', null).execute();
  assert.ok(
    stored.length > 0 &&
      stored.every((r) => r.binding !== BINDING && /^[0-9a-f]{64}$/.test(String(r.binding))),
    'only a hash is stored',
  );
});

test('a JSON login’s refresh token planted as the cookie is refused: it cannot switch a browser into that account', async (t) => {
  const { app } = await build(t);
  // Plain JSON logins: sessions without a binding secret.
  const mallory = await loginPair(app, 'mallory', 'correct horse 9');
  assert.equal(typeof mallory.refresh_token, 'string');
  // The victim's page, with its own secret, sends the cookie a page on another port planted.
  const planted = await refresh(app, mallory.refresh_token);
  assert.equal(planted.statusCode, 401);
  assert.equal(planted.json().token, undefined);
  // Nor can the victim's page log out a session that was never a browser's.
  const other = await loginPair(app, 'mallory', 'correct horse 9');
  const out = await app.inject({
    method: 'POST',
    url: '/token/logout',
    headers: { ...WEB, cookie: `bookapi_refresh=${other.refresh_token}` },
  });
  assert.equal(out.statusCode, 200);
  const still = await app.inject({
    method: 'POST',
    url: '/token/refresh',
    payload: { refresh_token: other.refresh_token },
  });
  assert.equal(still.statusCode, 201, 'the JSON session goes on');
});
