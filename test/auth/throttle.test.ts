import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { body, build, ORIGINAL_USER, signup } from '../helpers.js';

const tryLogin = (
  app: FastifyInstance,
  username: string,
  password: string,
  headers: Record<string, string> = {},
  remoteAddress = '127.0.0.1',
): Promise<LightMyRequestResponse> =>
  app.inject({ method: 'POST', url: '/login', payload: { username, password }, headers, remoteAddress });

function assertThrottled(res: LightMyRequestResponse, why: string) {
  assert.equal(res.statusCode, 429, why);
  assert.equal(body(res).code, 'TOO_MANY_REQUESTS');
  assert.match(String(res.headers['retry-after']), /^\d+$/);
  assert.ok(Number(res.headers['retry-after']) > 0);
}

test('after 5 failures in 15 min a username gets 429 with Retry-After, even with the right password', async (t) => {
  const { app, clock } = await build(t);
  await signup(app);
  for (let i = 0; i < 5; i++) {
    assert.equal((await tryLogin(app, ORIGINAL_USER.username, `wrong ${i}`)).statusCode, 401);
  }
  const blocked = await tryLogin(app, ORIGINAL_USER.username, ORIGINAL_USER.password);
  assertThrottled(blocked, 'right password while throttled');
  assert.ok(Number(blocked.headers['retry-after']) <= 15 * 60);
  clock.advance(15 * 60 + 1);
  assert.equal(
    (await tryLogin(app, ORIGINAL_USER.username, ORIGINAL_USER.password)).statusCode,
    201,
    'no permanent lockout',
  );
});

test('unknown usernames are throttled the same way (no hint that they do not exist)', async (t) => {
  const { app } = await build(t);
  for (let i = 0; i < 5; i++) await tryLogin(app, 'ghost', `guess ${i}`);
  assertThrottled(await tryLogin(app, 'ghost', 'guess 6'), 'unknown user');
});

test('a success clears the username count: 4 failures, a login, 4 more are fine', async (t) => {
  const { app } = await build(t);
  await signup(app);
  for (let i = 0; i < 4; i++) await tryLogin(app, ORIGINAL_USER.username, 'wrong');
  assert.equal((await tryLogin(app, ORIGINAL_USER.username, ORIGINAL_USER.password)).statusCode, 201);
  for (let i = 0; i < 4; i++)
    assert.equal((await tryLogin(app, ORIGINAL_USER.username, 'wrong')).statusCode, 401);
});

test('rotating X-Forwarded-For from an untrusted client resets nothing', async (t) => {
  const { app } = await build(t);
  await signup(app);
  for (let i = 0; i < 5; i++) {
    await tryLogin(app, ORIGINAL_USER.username, 'wrong', { 'x-forwarded-for': `10.0.0.${i}` });
  }
  assertThrottled(
    await tryLogin(app, ORIGINAL_USER.username, ORIGINAL_USER.password, { 'x-forwarded-for': '10.9.9.9' }),
    'username limit with a new forwarded address',
  );
  // Spraying many usernames from one address hits the per-IP limit (20), whatever XFF says.
  for (let i = 0; i < 15; i++) await tryLogin(app, `user${i}`, 'wrong', { 'x-forwarded-for': `10.1.0.${i}` });
  assertThrottled(await tryLogin(app, 'fresh-name', 'wrong', { 'x-forwarded-for': '10.2.0.1' }), 'IP limit');
});

test('behind a trusted proxy the forwarded client address is the key; the username limit still holds', async (t) => {
  const { app } = await build(t, { TRUST_PROXY: '127.0.0.1' });
  await signup(app);
  for (let i = 0; i < 20; i++)
    await tryLogin(app, `spray${i}`, 'wrong', { 'x-forwarded-for': '203.0.113.7' });
  assertThrottled(
    await tryLogin(app, 'another', 'wrong', { 'x-forwarded-for': '203.0.113.7' }),
    'client over its limit',
  );
  const other = await tryLogin(app, ORIGINAL_USER.username, ORIGINAL_USER.password, {
    'x-forwarded-for': '198.51.100.1',
  });
  assert.equal(other.statusCode, 201, 'another client behind the same proxy is not punished');
  // An untrusted peer's X-Forwarded-For is not believed.
  for (let i = 0; i < 20; i++)
    await tryLogin(app, `x${i}`, 'wrong', { 'x-forwarded-for': `192.0.2.${i}` }, '192.0.2.200');
  assertThrottled(
    await tryLogin(app, 'y', 'wrong', { 'x-forwarded-for': '192.0.2.99' }, '192.0.2.200'),
    'untrusted peer keyed by its socket address',
  );
});

test('20 signups per IP per hour, then 429', async (t) => {
  const { app, clock } = await build(t);
  for (let i = 0; i < 20; i++) {
    const res = await signup(app, { username: `user${i}`, password: ORIGINAL_USER.password });
    assert.equal(res.statusCode, 201, `signup ${i}`);
  }
  assertThrottled(await signup(app, { username: 'user20', password: ORIGINAL_USER.password }), '21st signup');
  const elsewhere = await app.inject({
    method: 'POST',
    url: '/signup',
    payload: { username: 'user21', password: ORIGINAL_USER.password },
    remoteAddress: '192.0.2.1',
  });
  assert.equal(elsewhere.statusCode, 201, 'another address is not affected');
  clock.advance(3600);
  assert.equal((await signup(app, { username: 'user22', password: ORIGINAL_USER.password })).statusCode, 201);
});

test('limits are configurable', async (t) => {
  const { app } = await build(t, { LOGIN_MAX_FAILURES: '2', LOGIN_WINDOW: '1m' });
  await signup(app);
  await tryLogin(app, ORIGINAL_USER.username, 'wrong');
  await tryLogin(app, ORIGINAL_USER.username, 'wrong');
  const res = await tryLogin(app, ORIGINAL_USER.username, ORIGINAL_USER.password);
  assertThrottled(res, 'after 2');
  assert.ok(Number(res.headers['retry-after']) <= 60);
});

test('40 parallel guesses get at most 5 password checks; the rest are 429', async (t) => {
  const { app } = await build(t);
  await signup(app);
  const answers = await Promise.all(
    Array.from({ length: 40 }, (_, i) => tryLogin(app, ORIGINAL_USER.username, `parallel guess ${i}`)),
  );
  const codes = answers.map((r) => r.statusCode);
  assert.equal(codes.filter((c) => c === 401).length, 5, codes.join(','));
  assert.equal(codes.filter((c) => c === 429).length, 35);
});
