// A login verifies the password outside any lock (argon2 takes a while). A password change or a
// disable that commits meanwhile must still win: no session made with the old password, or for a
// disabled account, may outlive the change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { body, build, loginPair, makeAdmin, ORIGINAL_USER, publicIdOf, status } from '../helpers.js';

const LOGIN_ENV = { LOGIN_IP_MAX_FAILURES: '100000', LOGIN_MAX_FAILURES: '100000' };

/** Logs in with the old password in `loops` parallel loops until `stop()`; returns every token it got. */
function loginLoops(app: FastifyInstance, loops: number) {
  let running = true;
  const tokens: string[] = [];
  const done = Promise.all(
    Array.from({ length: loops }, async () => {
      while (running) {
        const res = await app.inject({ method: 'POST', url: '/login', payload: ORIGINAL_USER });
        if (res.statusCode === 201) tokens.push(body<{ token: string }>(res).token);
      }
    }),
  );
  return {
    tokens,
    /** Until the loops have logged in at least once, so the change below lands mid-race. */
    started: async () => {
      while (tokens.length === 0) await new Promise((r) => setTimeout(r, 10));
    },
    stop: async () => {
      running = false;
      await done;
    },
  };
}

test('a password change wins over logins racing it: every session made with the old password ends', async (t) => {
  const { app } = await build(t, LOGIN_ENV);
  const owner = await loginPair(app);
  const attacker = loginLoops(app, 4);
  await attacker.started();
  const change = await app.inject({
    method: 'PUT',
    url: '/me/password',
    headers: owner.headers,
    payload: { current_password: ORIGINAL_USER.password, new_password: 'the owner took it back' },
  });
  assert.equal(change.statusCode, 200, change.body);
  await new Promise((r) => setTimeout(r, 150));
  await attacker.stop();
  assert.ok(attacker.tokens.length > 0, 'the race ran');
  const alive = [];
  for (const token of attacker.tokens) {
    if ((await status(app, '/me', { 'x-access-token': token })) === 200) alive.push(token);
  }
  assert.deepEqual(alive, [], `${alive.length} of ${attacker.tokens.length} old-password sessions survived`);
  assert.equal(await status(app, '/me', owner.headers), 200, 'the session that changed it goes on');
});

test('a disable wins over logins racing it: after re-enabling, none of those sessions comes back', async (t) => {
  const { app, db } = await build(t, LOGIN_ENV);
  await loginPair(app, 'boss');
  await makeAdmin(db, 'boss');
  const adminPair = await loginPair(app, 'boss');
  await loginPair(app);
  const id = await publicIdOf(db, ORIGINAL_USER.username);
  const attacker = loginLoops(app, 4);
  await attacker.started();
  const patch = (disabled: boolean) =>
    app.inject({
      method: 'PATCH',
      url: `/admin/users/${id}`,
      headers: adminPair.headers,
      payload: { disabled },
    });
  assert.equal((await patch(true)).statusCode, 200);
  await new Promise((r) => setTimeout(r, 150));
  await attacker.stop();
  assert.equal((await patch(false)).statusCode, 200);
  assert.ok(attacker.tokens.length > 0, 'the race ran');
  const alive = [];
  for (const token of attacker.tokens) {
    if ((await status(app, '/me', { 'x-access-token': token })) === 200) alive.push(token);
  }
  assert.deepEqual(
    alive,
    [],
    `${alive.length} of ${attacker.tokens.length} sessions came back after re-enabling`,
  );
});
