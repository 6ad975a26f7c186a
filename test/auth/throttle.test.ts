import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { body, build, ORIGINAL_USER, signup } from '../helpers.js';

const tryLogin = (
  app: FastifyInstance,
  username: string,
  password: string,
  headers: Record<string, string> = {},
  remoteAddress = '127.0.0.1',
): Promise<LightMyRequestResponse> =>
  app.inject({ method: 'POST', url: '/login', payload: { username, password }, headers, remoteAddress });

/** A login from one client behind a trusted proxy at 127.0.0.1, the client written as `from`. */
const loginFrom = (app: FastifyInstance, from: string, username: string, password: string) =>
  tryLogin(app, username, password, { 'x-forwarded-for': from });

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

test('a successful login takes back its own attempt and nothing more: 4 failures, a login, 1 more', async (t) => {
  const { app } = await build(t);
  await signup(app);
  for (let i = 0; i < 4; i++) await tryLogin(app, ORIGINAL_USER.username, 'wrong');
  assert.equal((await tryLogin(app, ORIGINAL_USER.username, ORIGINAL_USER.password)).statusCode, 201);
  assert.equal((await tryLogin(app, ORIGINAL_USER.username, 'wrong')).statusCode, 401);
  assertThrottled(await tryLogin(app, ORIGINAL_USER.username, 'wrong'), 'the 6th failure');
});

test('case and width variants share one budget: 12 guesses mixed with a variant’s logins, at most 5 checked', async (t) => {
  const { app } = await build(t);
  await signup(app);
  // Where variants are distinct accounts, the attacker owns one; where they are one identity, it is refused.
  const attacker = { username: 'TESTING_USER', password: 'the attacker’s own passphrase' };
  await signup(app, attacker);
  const spellings = [ORIGINAL_USER.username, 'Testing_User', 'ｔｅｓｔｉｎｇ_ｕｓｅｒ'];
  let checked = 0;
  for (let i = 0; i < 12; i++) {
    const guess = await tryLogin(app, spellings[i % spellings.length] ?? '', `guess number ${i}`);
    assert.ok([401, 429].includes(guess.statusCode), guess.body);
    if (guess.statusCode === 401) checked++;
    await tryLogin(app, attacker.username, attacker.password);
  }
  assert.ok(checked <= 5, `${checked} guesses reached the password check`);
});

test('one source cannot lock the owner out: refused attempts count for nothing, the owner logs in elsewhere', async (t) => {
  const { app, clock } = await build(t, { TRUST_PROXY: '127.0.0.1' });
  await signup(app);
  const attacker = '192.0.2.66';
  // Four rounds within one hour of the account's window (ceiling 100): 4 × 5 failures count, and
  // the 4 × 30 refused attempts would push it past 100 if they counted too.
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 5; i++)
      assert.equal((await loginFrom(app, attacker, ORIGINAL_USER.username, 'guess')).statusCode, 401);
    for (let i = 0; i < 30; i++)
      assertThrottled(await loginFrom(app, attacker, ORIGINAL_USER.username, 'guess'), 'attacker');
    const owner = await loginFrom(app, '198.51.100.7', ORIGINAL_USER.username, ORIGINAL_USER.password);
    assert.equal(owner.statusCode, 201, `round ${round}: the owner from another address`);
    clock.advance(15 * 60 + 1);
  }
});

test('the account ceiling counts every source; past it everyone waits, the window then closes', async (t) => {
  // Ceiling 11: just above what one client may do in an hour at 2 per 15 minutes (2 × 5 windows).
  const { app, clock } = await build(t, {
    TRUST_PROXY: '127.0.0.1',
    LOGIN_MAX_FAILURES: '2',
    LOGIN_ACCOUNT_MAX_FAILURES: '11',
  });
  await signup(app);
  const codes: number[] = [];
  for (let source = 1; source <= 6; source++)
    for (let i = 0; i < 2; i++)
      codes.push((await loginFrom(app, `192.0.2.${source}`, ORIGINAL_USER.username, 'guess')).statusCode);
  assert.deepEqual(codes, [...Array(11).fill(401), 429]);
  const blocked = await loginFrom(app, '198.51.100.7', ORIGINAL_USER.username, ORIGINAL_USER.password);
  assertThrottled(blocked, 'a fresh source past the account ceiling');
  assert.ok(Number(blocked.headers['retry-after']) > 15 * 60, 'the account window is the longer one (1h)');
  assert.ok(Number(blocked.headers['retry-after']) <= 60 * 60);
  clock.advance(60 * 60 + 1);
  const owner = await loginFrom(app, '198.51.100.7', ORIGINAL_USER.username, ORIGINAL_USER.password);
  assert.equal(owner.statusCode, 201);
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
  for (let i = 0; i < 20; i++) await loginFrom(app, '203.0.113.7', `spray${i}`, 'wrong');
  assertThrottled(await loginFrom(app, '203.0.113.7', 'another', 'wrong'), 'client over its limit');
  const other = await loginFrom(app, '198.51.100.1', ORIGINAL_USER.username, ORIGINAL_USER.password);
  assert.equal(other.statusCode, 201, 'another client behind the same proxy is not punished');
  // An untrusted peer's X-Forwarded-For is not believed.
  for (let i = 0; i < 20; i++)
    await tryLogin(app, `x${i}`, 'wrong', { 'x-forwarded-for': `192.0.2.${i}` }, '192.0.2.200');
  assertThrottled(
    await tryLogin(app, 'y', 'wrong', { 'x-forwarded-for': '192.0.2.99' }, '192.0.2.200'),
    'untrusted peer keyed by its socket address',
  );
});

const SPELLINGS = ['203.0.113.7', '203.0.113.7:4711', '::ffff:203.0.113.7', '[::ffff:203.0.113.7]:80'];

test('one client however its address is written: port, IPv4-mapped IPv6, brackets', async (t) => {
  const { app } = await build(t, { TRUST_PROXY: '127.0.0.1' });
  await signup(app);
  for (let i = 0; i < 5; i++)
    await loginFrom(app, SPELLINGS[i % SPELLINGS.length] ?? '', ORIGINAL_USER.username, 'wrong');
  for (const from of SPELLINGS)
    assertThrottled(await loginFrom(app, from, ORIGINAL_USER.username, ORIGINAL_USER.password), from);
  for (let i = 0; i < 15; i++) await loginFrom(app, SPELLINGS[i % SPELLINGS.length] ?? '', `spray${i}`, 'x');
  for (const from of SPELLINGS) assertThrottled(await loginFrom(app, from, 'fresh-name', 'x'), `IP ${from}`);
  assert.equal((await loginFrom(app, '203.0.113.8', 'fresh-name', 'x')).statusCode, 401, 'a neighbour');
});

test('the socket’s IPv4-mapped address is the same client as its IPv4 form', async (t) => {
  const { app } = await build(t);
  for (let i = 0; i < 20; i++)
    await tryLogin(app, `spray${i}`, 'x', {}, i % 2 ? '::ffff:192.0.2.9' : '192.0.2.9');
  assertThrottled(await tryLogin(app, 'fresh', 'x', {}, '192.0.2.9'), 'IPv4');
  assertThrottled(await tryLogin(app, 'fresh', 'x', {}, '::ffff:192.0.2.9'), 'IPv4-mapped');
});

test('IPv6 clients are grouped by /64', async (t) => {
  const { app } = await build(t, { TRUST_PROXY: '127.0.0.1' });
  for (let i = 0; i < 20; i++)
    await loginFrom(app, `2001:db8:1:2::${(i + 1).toString(16)}`, `spray${i}`, 'x');
  for (const from of ['2001:db8:1:2:abcd:ef01:2345:6789', '[2001:DB8:1:2::FFFF]:443'])
    assertThrottled(await loginFrom(app, from, 'fresh', 'x'), from);
  assert.equal((await loginFrom(app, '2001:db8:1:3::1', 'fresh', 'x')).statusCode, 401, 'the next /64');
});

test('signups are counted per client too, whatever the spelling', async (t) => {
  const { app } = await build(t, { TRUST_PROXY: '127.0.0.1', SIGNUP_IP_MAX: '4' });
  const signupFrom = (from: string, i: number) =>
    app.inject({
      method: 'POST',
      url: '/signup',
      payload: { username: `reader${i}`, password: ORIGINAL_USER.password },
      headers: { 'x-forwarded-for': from },
    });
  for (let i = 0; i < 4; i++) assert.equal((await signupFrom(SPELLINGS[i] ?? '', i)).statusCode, 201);
  for (const from of SPELLINGS) assertThrottled(await signupFrom(from, 9), from);
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

test('wrong current passwords on PUT /me/password share the login budget', async (t) => {
  const { app } = await build(t);
  await signup(app);
  const { token } = body<{ token: string }>(
    await tryLogin(app, ORIGINAL_USER.username, ORIGINAL_USER.password),
  );
  const change = (current: string) =>
    app.inject({
      method: 'PUT',
      url: '/me/password',
      headers: { authorization: `Bearer ${token}` },
      payload: { current_password: current, new_password: 'a brand new passphrase' },
    });
  for (let i = 0; i < 5; i++) assert.equal((await change(`wrong ${i}`)).statusCode, 401);
  assertThrottled(await change(ORIGINAL_USER.password), 'password change');
  assertThrottled(await tryLogin(app, 'ＴＥＳＴＩＮＧ_USER', ORIGINAL_USER.password), 'login, any spelling');
});

test('counters stay few and small: long distinct usernames, refused attempts store nothing, keys are hashes', async (t) => {
  const { app, db } = await build(t);
  for (let i = 0; i < 200; i++) await tryLogin(app, `${'n'.repeat(1000)}${i}`, 'x');
  const rows = await sql<{ key: string }>`select key from throttle_counters`.execute(db);
  // 20 attempts reached the password check: per client, per name, per name and client; the rest were refused.
  assert.equal(rows.rows.length, 1 + 20 + 20, rows.rows.map((r) => r.key).join('\n'));
  for (const { key } of rows.rows) {
    assert.ok(key.length <= 40, key);
    assert.doesNotMatch(key, /nnn|127\.0\.0\.1/);
  }
});
