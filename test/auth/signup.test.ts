import assert from 'node:assert/strict';
import { test } from 'node:test';
import { body, build, login, signup } from '../helpers.js';

const ok = { username: 'reader', password: 'testing_p@ssword' };

test('signup answers 201 "registered successfully" and stores an argon2id hash', async (t) => {
  const { app, db } = await build(t);
  const res = await signup(app, ok);
  assert.equal(res.statusCode, 201);
  assert.deepEqual(body(res), { message: 'registered successfully' });
  const row = await db.selectFrom('users').selectAll().executeTakeFirstOrThrow();
  assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$/);
  assert.equal(row.admin, 0);
  assert.match(row.public_id, /^[0-9a-f-]{36}$/);
});

test('the same password twice gives two different hashes (random salt)', async (t) => {
  const { app, db } = await build(t);
  await signup(app, { username: 'one', password: ok.password });
  await signup(app, { username: 'two', password: ok.password });
  const rows = await db.selectFrom('users').select('password_hash').execute();
  assert.equal(rows.length, 2);
  assert.notEqual(rows[0]?.password_hash, rows[1]?.password_hash);
});

test('signing up twice with one username answers 409 "User already exists!"', async (t) => {
  const { app } = await build(t);
  await signup(app, ok);
  const res = await signup(app, { ...ok, password: 'another password' });
  assert.equal(res.statusCode, 409);
  assert.deepEqual(body(res), { message: 'User already exists!', code: 'USER_EXISTS' });
});

const invalid: [string, unknown][] = [
  ['no body', undefined],
  ['missing username', { password: ok.password }],
  ['missing password', { username: ok.username }],
  ['username of 2 characters', { username: 'ab', password: ok.password }],
  ['username of 65 characters', { username: 'a'.repeat(65), password: ok.password }],
  ['password of 7 characters', { username: ok.username, password: '1234567' }],
  ['password of 129 characters', { username: ok.username, password: 'p'.repeat(129) }],
  ['numeric username', { username: 12345, password: ok.password }],
  ['array password', { username: ok.username, password: ['testing_p@ssword'] }],
  ['null password', { username: ok.username, password: null }],
  ['username with surrounding spaces', { username: ' reader ', password: ok.password }],
  ['username with a control character', { username: 're\u0000der', password: ok.password }],
  ['a JSON array body', [ok]],
];

for (const [name, payload] of invalid) {
  test(`signup with ${name} answers 400 with a message`, async (t) => {
    const { app, db } = await build(t);
    const res = await app.inject({
      method: 'POST',
      url: '/signup',
      headers: { 'content-type': 'application/json' },
      payload: payload === undefined ? '' : JSON.stringify(payload),
    });
    assert.equal(res.statusCode, 400);
    const answer = body<{ message: string; code: string }>(res);
    assert.equal(typeof answer.message, 'string');
    assert.ok(answer.message.length > 0);
    assert.equal(typeof answer.code, 'string');
    assert.equal((await db.selectFrom('users').select('id').execute()).length, 0);
  });
}

test('boundary lengths are accepted: 3-char username, 64-char username, 8- and 128-char passwords', async (t) => {
  const { app } = await build(t);
  for (const user of [
    { username: 'abc', password: 'zq8#Lm2!' },
    { username: 'u'.repeat(64), password: 'p'.repeat(128) },
  ]) {
    const res = await signup(app, user);
    assert.equal(res.statusCode, 201, res.body);
    assert.equal((await login(app, user)).statusCode, 201);
  }
});

test('"admin": true in a signup never makes an admin', async (t) => {
  const { app, db } = await build(t);
  const res = await signup(app, { ...ok, admin: true, is_admin: 1 } as typeof ok);
  assert.equal(res.statusCode, 201);
  const row = await db.selectFrom('users').select('admin').executeTakeFirstOrThrow();
  assert.equal(row.admin, 0);
});

test('prototype pollution in a signup body is refused and the process stays healthy', async (t) => {
  const { app, db } = await build(t);
  for (const payload of [
    `{"username":"mallory","password":"testing_p@ssword","__proto__":{"admin":true}}`,
    `{"username":"mallory","password":"testing_p@ssword","constructor":{"prototype":{"admin":true}}}`,
  ]) {
    const res = await app.inject({
      method: 'POST',
      url: '/signup',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(typeof body(res).message, 'string');
  }
  assert.equal(({} as Record<string, unknown>).admin, undefined);
  assert.equal((await db.selectFrom('users').select('id').execute()).length, 0);
  assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
});

test('common passwords are refused with 400, whatever their case; the original tutorial password is fine', async (t) => {
  const { app } = await build(t);
  for (const password of ['password1234', 'Password123', 'qwertyuiop', 'iloveyou1']) {
    const res = await signup(app, { username: 'reader', password });
    assert.equal(res.statusCode, 400, password);
    assert.equal(body(res).code, 'PASSWORD_TOO_COMMON');
  }
  assert.equal((await signup(app, { username: 'reader', password: 'testing_p@ssword' })).statusCode, 201);
});
