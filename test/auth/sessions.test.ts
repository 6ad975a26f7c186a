import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { body, build, claims, forgeToken, HS256, loginPair, publicIdOf, refresh } from '../helpers.js';

const decode = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;

async function books(app: FastifyInstance, token: string) {
  const res = await app.inject({
    method: 'GET',
    url: '/bookapi/books',
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.statusCode, message: body(res).message };
}

test('login returns an opaque 256-bit refresh token, stored only as a SHA-256 hash', async (t) => {
  const { app, db } = await build(t);
  const pair = await loginPair(app);
  assert.match(pair.refresh_token, /^[A-Za-z0-9_-]{43}$/);
  const rows = await db.selectFrom('refresh_tokens').selectAll().execute();
  assert.equal(rows.length, 1);
  assert.equal(rows[0]?.token_hash, createHash('sha256').update(pair.refresh_token).digest('hex'));
  assert.equal(JSON.stringify(rows).includes(pair.refresh_token), false);
  const claims = decode(pair.token);
  const session = await db.selectFrom('sessions').select('id').executeTakeFirstOrThrow();
  assert.equal(claims.sid, session.id);
  assert.equal(claims.fresh, true);
});

test('POST /logout ends the session at once: its access and refresh tokens are refused', async (t) => {
  const { app } = await build(t);
  const pair = await loginPair(app);
  const other = await loginPair(app);
  const res = await app.inject({ method: 'POST', url: '/logout', headers: pair.headers });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(body(res), { message: 'Logged out' });
  assert.deepEqual(await books(app, pair.token), { status: 401, message: 'Token has been revoked!' });
  const again = await refresh(app, pair.refresh_token);
  assert.equal(again.statusCode, 401);
  assert.equal(body(again).message, 'Invalid refresh token!');
  // Another session of the same user is untouched.
  assert.equal((await books(app, other.token)).status, 200);
});

test('POST /logout/all ends every session of the user, and only theirs', async (t) => {
  const { app } = await build(t);
  const a = await loginPair(app);
  const b = await loginPair(app);
  const stranger = await loginPair(app, 'stranger');
  const res = await app.inject({ method: 'POST', url: '/logout/all', headers: a.headers });
  assert.equal(res.statusCode, 200);
  for (const pair of [a, b]) {
    assert.deepEqual(await books(app, pair.token), { status: 401, message: 'Token has been revoked!' });
    assert.equal((await refresh(app, pair.refresh_token)).statusCode, 401);
  }
  assert.equal((await books(app, stranger.token)).status, 200);
});

test('refresh rotates: a new pair, the old refresh token spent, the new access token not fresh', async (t) => {
  const { app, clock } = await build(t);
  const first = await loginPair(app);
  clock.advance(60);
  const res = await refresh(app, first.refresh_token);
  assert.equal(res.statusCode, 201);
  const next = body<{ token: string; refresh_token: string; token_type: string; expires_in: number }>(res);
  assert.equal(next.token_type, 'Bearer');
  assert.equal(next.expires_in, 900);
  assert.notEqual(next.refresh_token, first.refresh_token);
  assert.equal(decode(next.token).sid, decode(first.token).sid);
  assert.equal(decode(next.token).fresh, undefined);
  assert.equal((await books(app, next.token)).status, 200);
  const fresh = await app.inject({
    method: 'PUT',
    url: '/me/password',
    headers: { authorization: `Bearer ${next.token}` },
    payload: { current_password: 'testing_p@ssword', new_password: 'a brand new passphrase' },
  });
  assert.equal(fresh.statusCode, 401);
  assert.equal(body(fresh).message, 'Fresh login required!');
});

test('a spent refresh token presented again revokes the whole session, newest tokens included', async (t) => {
  const { app, clock } = await build(t);
  const stolen = await loginPair(app);
  const bystander = await loginPair(app);
  const legit = body<{ token: string; refresh_token: string }>(await refresh(app, stolen.refresh_token));
  const newer = body<{ token: string; refresh_token: string }>(await refresh(app, legit.refresh_token));
  clock.advance(11); // past the concurrent-refresh grace
  const replay = await refresh(app, stolen.refresh_token);
  assert.equal(replay.statusCode, 401);
  assert.deepEqual(body(replay), { message: 'Invalid refresh token!', code: 'REFRESH_INVALID' });
  assert.equal(
    (await refresh(app, newer.refresh_token)).statusCode,
    401,
    'the newest refresh token is refused',
  );
  assert.deepEqual(await books(app, newer.token), { status: 401, message: 'Token has been revoked!' });
  assert.equal((await books(app, bystander.token)).status, 200, 'other sessions are untouched');
});

test('two refreshes with one token within the grace window both succeed, with one successor (concurrent tabs)', async (t) => {
  const { app, clock } = await build(t);
  const pair = await loginPair(app);
  const [a, b] = await Promise.all([refresh(app, pair.refresh_token), refresh(app, pair.refresh_token)]);
  assert.equal(a.statusCode, 201);
  assert.equal(b.statusCode, 201);
  clock.advance(5);
  const c = await refresh(app, pair.refresh_token);
  assert.equal(c.statusCode, 201, 'still inside the 10 s grace');
  const successors = new Set([a, b, c].map((res) => body<{ refresh_token: string }>(res).refresh_token));
  assert.equal(successors.size, 1, 'a retry gets the same successor, never a new branch');
  for (const res of [a, b, c])
    assert.equal((await books(app, body<{ token: string }>(res).token)).status, 200);
});

test('with REFRESH_REUSE_GRACE=0 any second use is reuse', async (t) => {
  const { app } = await build(t, { REFRESH_REUSE_GRACE: '0' });
  const pair = await loginPair(app);
  const first = body<{ token: string }>(await refresh(app, pair.refresh_token));
  assert.equal((await refresh(app, pair.refresh_token)).statusCode, 401);
  assert.equal((await books(app, first.token)).status, 401);
});

test('refresh tokens die after 7 idle days, and after 30 days however active', async (t) => {
  const { app, clock } = await build(t);
  const idle = await loginPair(app, 'idle');
  clock.advance(7 * 86400 + 1);
  assert.equal((await refresh(app, idle.refresh_token)).statusCode, 401);

  const active = await loginPair(app, 'active');
  let current = active.refresh_token;
  for (let day = 6; day <= 30; day += 6) {
    clock.advance(6 * 86400);
    const res = await refresh(app, current);
    if (day < 30) {
      assert.equal(res.statusCode, 201, `day ${day}`);
      current = body<{ refresh_token: string }>(res).refresh_token;
    } else {
      assert.equal(res.statusCode, 401, 'day 30: the absolute lifetime is over');
    }
  }
});

test('an access token is never a refresh token, and a refresh token never an access token', async (t) => {
  const { app } = await build(t);
  const pair = await loginPair(app);
  const asRefresh = await refresh(app, pair.token);
  assert.equal(asRefresh.statusCode, 401);
  assert.equal(body(asRefresh).message, 'Invalid refresh token!');
  assert.deepEqual(await books(app, pair.refresh_token), { status: 401, message: 'Invalid token!' });
});

test('bad refresh requests answer 401 "Invalid refresh token!", never 500', async (t) => {
  const { app } = await build(t);
  await loginPair(app);
  for (const payload of [
    {},
    { refresh_token: '' },
    { refresh_token: 42 },
    { refresh_token: 'x'.repeat(43) },
    { refresh_token: 'a'.repeat(300) },
  ]) {
    const res = await app.inject({ method: 'POST', url: '/token/refresh', payload });
    assert.equal(res.statusCode, 401, JSON.stringify(payload));
    assert.equal(body(res).message, 'Invalid refresh token!');
  }
});

test('a token whose session belongs to another user is refused (sid is checked against sub)', async (t) => {
  const { app, db, clock } = await build(t);
  const alice = await loginPair(app, 'alice');
  await loginPair(app, 'bob');
  const bobSession = decode((await loginPair(app, 'bob')).token).sid;
  const forged = forgeToken(HS256, { ...claims(await publicIdOf(db, 'alice'), clock), sid: bobSession });
  assert.deepEqual(await books(app, forged), { status: 401, message: 'Token has been revoked!' });
  const unknown = forgeToken(HS256, {
    ...claims(await publicIdOf(db, 'alice'), clock),
    sid: 'no-such-session',
  });
  assert.deepEqual(await books(app, unknown), { status: 401, message: 'Token has been revoked!' });
  assert.equal((await books(app, alice.token)).status, 200);
});
