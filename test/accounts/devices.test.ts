// Sessions as devices: listed with what the client sent, ended one at a time by their user or
// all at once by an admin, with the same immediate effect as a logout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { body, build, makeAdmin, type Pair, publicIdOf } from '../helpers.js';

const PASSWORD = 'testing_p@ssword';

interface Device {
  id: string;
  created_at: string;
  last_used_at: string;
  user_agent: string | null;
  ip: string | null;
  current: boolean;
}

async function loginFrom(
  app: FastifyInstance,
  username: string,
  agent: string,
  remoteAddress = '203.0.113.7',
): Promise<Pair> {
  await app.inject({ method: 'POST', url: '/signup', payload: { username, password: PASSWORD } });
  const res = await app.inject({
    method: 'POST',
    url: '/login',
    payload: { username, password: PASSWORD },
    headers: { 'user-agent': agent },
    remoteAddress,
  });
  assert.equal(res.statusCode, 201, res.body);
  const { token, refresh_token } = body<{ token: string; refresh_token: string }>(res);
  return { token, refresh_token, headers: { authorization: `Bearer ${token}` } };
}

const devices = async (app: FastifyInstance, headers: Record<string, string>) => {
  const res = await app.inject({ method: 'GET', url: '/me/sessions', headers });
  assert.equal(res.statusCode, 200, res.body);
  return body<{ sessions: Device[] }>(res).sessions;
};

test('GET /me/sessions: live sessions newest first, with agent and address, the current one marked', async (t) => {
  const { app, clock } = await build(t);
  const laptop = await loginFrom(app, 'alice', 'Firefox on a laptop', '::ffff:203.0.113.7');
  clock.advance(60);
  const phone = await loginFrom(app, 'alice', `Phone\u001b[31m ${'x'.repeat(400)}`, '2001:db8::1');
  const seen = await devices(app, phone.headers);
  assert.equal(seen.length, 2);
  const [first, second] = seen;
  assert.ok(first && second);
  assert.equal(first.current, true);
  assert.equal(second.current, false);
  assert.match(first.user_agent ?? '', /^Phone\[31m x+$/, 'control characters dropped');
  assert.equal(first.user_agent?.length, 256, 'truncated');
  assert.equal(first.ip, '2001:db8::1');
  assert.equal(second.user_agent, 'Firefox on a laptop');
  assert.equal(second.ip, '203.0.113.7');
  assert.equal(second.created_at, '2026-01-01T00:00:00.000Z');
  // The public id is neither the session id inside the token nor anything of the refresh token.
  const sid = JSON.parse(Buffer.from(phone.token.split('.')[1] ?? '', 'base64url').toString()).sid as string;
  for (const d of seen) {
    assert.notEqual(d.id, sid);
    assert.equal(phone.refresh_token.includes(d.id) || laptop.refresh_token.includes(d.id), false);
  }
  // Ended and expired sessions are not devices any more.
  await app.inject({ method: 'POST', url: '/logout', headers: laptop.headers });
  assert.deepEqual(
    (await devices(app, phone.headers)).map((d) => d.current),
    [true],
  );
});

test('a refresh updates last use, agent and address', async (t) => {
  const { app, clock } = await build(t);
  const alice = await loginFrom(app, 'alice', 'Old agent');
  clock.advance(120);
  const res = await app.inject({
    method: 'POST',
    url: '/token/refresh',
    payload: { refresh_token: alice.refresh_token },
    headers: { 'user-agent': 'New agent' },
    remoteAddress: '198.51.100.9',
  });
  assert.equal(res.statusCode, 201);
  const token = body<{ token: string }>(res).token;
  const [device] = await devices(app, { authorization: `Bearer ${token}` });
  assert.equal(device?.user_agent, 'New agent');
  assert.equal(device?.ip, '198.51.100.9');
  assert.equal(device?.last_used_at, '2026-01-01T00:02:00.000Z');
  assert.equal(device?.current, true);
});

test('DELETE /me/sessions/:id ends that session on its next request; another user’s id is 404', async (t) => {
  const { app } = await build(t);
  const laptop = await loginFrom(app, 'alice', 'laptop');
  const phone = await loginFrom(app, 'alice', 'phone');
  const mallory = await loginFrom(app, 'mallory', 'evil');
  const laptopId = (await devices(app, laptop.headers)).find((d) => d.current)?.id;
  assert.ok(laptopId);

  // Mallory cannot end (or learn about) Alice's session.
  const foreign = await app.inject({
    method: 'DELETE',
    url: `/me/sessions/${laptopId}`,
    headers: mallory.headers,
  });
  assert.equal(foreign.statusCode, 404);
  assert.deepEqual(body(foreign), { message: 'Session not found!', code: 'SESSION_NOT_FOUND' });
  assert.equal((await app.inject({ method: 'GET', url: '/me', headers: laptop.headers })).statusCode, 200);

  const ended = await app.inject({
    method: 'DELETE',
    url: `/me/sessions/${laptopId}`,
    headers: phone.headers,
  });
  assert.equal(ended.statusCode, 200);
  const refused = await app.inject({ method: 'GET', url: '/me', headers: laptop.headers });
  assert.equal(refused.statusCode, 401);
  assert.equal(body(refused).code, 'TOKEN_REVOKED');
  const refresh = await app.inject({
    method: 'POST',
    url: '/token/refresh',
    payload: { refresh_token: laptop.refresh_token },
  });
  assert.equal(refresh.statusCode, 401, 'its refresh token is dead too');
  assert.equal((await app.inject({ method: 'GET', url: '/me', headers: phone.headers })).statusCode, 200);

  for (const id of [laptopId, 'nope', 'a'.repeat(64)]) {
    const again = await app.inject({ method: 'DELETE', url: `/me/sessions/${id}`, headers: phone.headers });
    assert.equal(again.statusCode, 404, id);
  }
  for (const id of ['a'.repeat(65), 'bad%20id', '..%2F..']) {
    const bad = await app.inject({ method: 'DELETE', url: `/me/sessions/${id}`, headers: phone.headers });
    assert.equal(bad.statusCode, 400, id);
  }
});

test('admins list and end a user’s sessions, with a fresh login; users cannot', async (t) => {
  const { app, db, clock } = await build(t);
  const root = await loginFrom(app, 'root', 'admin console');
  await makeAdmin(db, 'root');
  const alice1 = await loginFrom(app, 'alice', 'one');
  const alice2 = await loginFrom(app, 'alice', 'two');
  const alice = await publicIdOf(db, 'alice');
  const url = `/admin/users/${alice}/sessions`;

  const listed = await app.inject({ method: 'GET', url, headers: root.headers });
  assert.equal(listed.statusCode, 200, listed.body);
  assert.deepEqual(
    body<{ sessions: Device[] }>(listed)
      .sessions.map((d) => d.user_agent)
      .sort(),
    ['one', 'two'],
  );
  assert.equal((await app.inject({ method: 'GET', url, headers: alice1.headers })).statusCode, 403);
  assert.equal((await app.inject({ method: 'DELETE', url, headers: alice1.headers })).statusCode, 403);
  assert.equal(
    (
      await app.inject({
        method: 'GET',
        url: '/admin/users/00000000-0000-4000-8000-000000000000/sessions',
        headers: root.headers,
      })
    ).statusCode,
    404,
  );
  assert.equal(
    (await app.inject({ method: 'GET', url: '/admin/users/not-a-uuid/sessions', headers: root.headers }))
      .statusCode,
    400,
  );

  const ended = await app.inject({ method: 'DELETE', url, headers: root.headers });
  assert.equal(ended.statusCode, 200);
  assert.equal(body(ended).ended, 2);
  for (const s of [alice1, alice2])
    assert.equal((await app.inject({ method: 'GET', url: '/me', headers: s.headers })).statusCode, 401);
  // The account itself still works: a new login is fine.
  await loginFrom(app, 'alice', 'three');

  clock.advance(11 * 60);
  const stale = await app.inject({ method: 'DELETE', url, headers: root.headers });
  assert.equal(stale.statusCode, 401);
  assert.equal(body(stale).code, 'FRESH_LOGIN_REQUIRED');
});
