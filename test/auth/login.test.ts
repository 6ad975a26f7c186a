import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Algorithm, hash } from '@node-rs/argon2';
import type { LightMyRequestResponse } from 'fastify';
import { body, build, login, ORIGINAL_USER, publicIdOf, signup } from '../helpers.js';

function decode(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header = '', payload = ''] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()),
  };
}

test('login answers 201 with a Bearer token that expires after ACCESS_TOKEN_TTL', async (t) => {
  const { app, db, clock } = await build(t, { ACCESS_TOKEN_TTL: '10m' });
  await signup(app);
  const res = await login(app);
  assert.equal(res.statusCode, 201);
  const answer = body<{ token: string; token_type: string; expires_in: number }>(res);
  assert.equal(answer.token_type, 'Bearer');
  assert.equal(answer.expires_in, 600);
  const { header, payload } = decode(answer.token);
  assert.deepEqual(header, { alg: 'HS256', typ: 'at+jwt' });
  const publicId = await publicIdOf(db, ORIGINAL_USER.username);
  assert.equal(payload.sub, publicId);
  assert.equal(payload.public_id, publicId);
  assert.equal(payload.iss, 'bookapi');
  assert.equal(payload.aud, 'bookapi');
  assert.equal(payload.iat, Math.floor(clock.now() / 1000));
  assert.equal(payload.exp, (payload.iat as number) + 600);
  assert.equal(typeof payload.jti, 'string');
  assert.equal(JSON.stringify(payload).includes('password'), false);
});

function comparable(res: LightMyRequestResponse) {
  const { date: _date, ...headers } = res.headers;
  return { status: res.statusCode, body: res.body, headers };
}

test('unknown user and wrong password get byte-identical 401 "Could not verify!" answers', async (t) => {
  const { app } = await build(t);
  await signup(app);
  const unknown = await login(app, { username: 'nobody', password: ORIGINAL_USER.password });
  const wrong = await login(app, { username: ORIGINAL_USER.username, password: 'wrong password' });
  assert.equal(unknown.statusCode, 401);
  assert.deepEqual(body(unknown), { message: 'Could not verify!', code: 'INVALID_CREDENTIALS' });
  assert.ok(unknown.headers['www-authenticate']);
  assert.deepEqual(comparable(unknown), comparable(wrong));
});

for (const [name, payload] of [
  ['no body', ''],
  ['an empty object', '{}'],
  ['no password', JSON.stringify({ username: ORIGINAL_USER.username })],
  ['no username', JSON.stringify({ password: ORIGINAL_USER.password })],
  ['an empty password', JSON.stringify({ username: ORIGINAL_USER.username, password: '' })],
  ['a numeric password', JSON.stringify({ username: ORIGINAL_USER.username, password: 12345678 })],
] as const) {
  test(`login with ${name} answers 401 "Could not verify!" with WWW-Authenticate`, async (t) => {
    const { app } = await build(t);
    await signup(app);
    const res = await app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    assert.equal(res.statusCode, 401);
    assert.equal(body(res).message, 'Could not verify!');
    assert.match(String(res.headers['www-authenticate']), /^Bearer /);
  });
}

test('a SQL injection in the username is just a wrong username', async (t) => {
  const { app } = await build(t);
  await signup(app);
  const res = await login(app, { username: "' OR '1'='1'--", password: "' OR '1'='1'--" });
  assert.equal(res.statusCode, 401);
  assert.equal(body(res).message, 'Could not verify!');
});

test('an 80-byte password does not log in with its first 72 bytes (no bcrypt-style truncation)', async (t) => {
  const { app } = await build(t);
  const password = `${'x'.repeat(72)}yyyyyyyy`;
  await signup(app, { username: 'long', password });
  assert.equal((await login(app, { username: 'long', password: password.slice(0, 72) })).statusCode, 401);
  assert.equal((await login(app, { username: 'long', password })).statusCode, 201);
});

test('an unknown username costs a password verify, like a wrong password', async (t) => {
  // Not a benchmark: a loose bound that only fails when one path skips argon2
  // (then the medians differ by an order of magnitude or more). Throttling is
  // raised out of the way so every attempt reaches the password check.
  const { app } = await build(t, { LOGIN_MAX_FAILURES: '1000', LOGIN_IP_MAX_FAILURES: '1000' });
  await signup(app);
  const median = async (username: string) => {
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const start = process.hrtime.bigint();
      const res = await login(app, { username, password: 'not the password' });
      times.push(Number(process.hrtime.bigint() - start));
      assert.equal(res.statusCode, 401);
    }
    return times.sort((a, b) => a - b)[7] ?? 0;
  };
  const [unknown, wrong] = [await median('nobody-at-all'), await median(ORIGINAL_USER.username)];
  const ratio = unknown / wrong;
  assert.ok(ratio > 0.5 && ratio < 2, `unknown/wrong median ratio ${ratio.toFixed(2)}`);
});

test('a hash made with weaker parameters is upgraded at the next successful login', async (t) => {
  const { app, db } = await build(t);
  await signup(app);
  const weak = await hash(ORIGINAL_USER.password, {
    algorithm: 2 as Algorithm,
    memoryCost: 4096,
    timeCost: 1,
  });
  await db.updateTable('users').set({ password_hash: weak }).execute();
  assert.equal((await login(app, { ...ORIGINAL_USER, password: 'wrong password' })).statusCode, 401);
  assert.equal(
    (await db.selectFrom('users').select('password_hash').executeTakeFirstOrThrow()).password_hash,
    weak,
  );
  assert.equal((await login(app)).statusCode, 201);
  const { password_hash } = await db.selectFrom('users').select('password_hash').executeTakeFirstOrThrow();
  assert.match(password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal((await login(app)).statusCode, 201);
});
