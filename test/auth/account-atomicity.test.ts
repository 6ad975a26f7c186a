// Account changes and the sessions they end are one transaction: a failure half-way leaves neither.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import type { Db } from '../../src/db/database.js';
import { isPostgres } from '../../src/db/dialect.js';
import { body, build, login, loginPair, makeAdmin, ORIGINAL_USER, publicIdOf, status } from '../helpers.js';

const NEW_PASSWORD = 'a brand new passphrase';

/** From now on every UPDATE of a session row fails, as a lost connection or a full disk would. */
async function breakSessionUpdates(db: Db): Promise<void> {
  if (isPostgres(db)) {
    await sql`create function refuse_session_update() returns trigger language plpgsql as $$
      begin raise exception 'injected failure'; end $$`.execute(db);
    await sql`create trigger refuse_session_update before update on sessions
      for each row execute function refuse_session_update()`.execute(db);
  } else {
    await sql`create trigger refuse_session_update before update on sessions
      begin select raise(abort, 'injected failure'); end`.execute(db);
  }
}

async function repairSessionUpdates(db: Db): Promise<void> {
  await sql`drop trigger refuse_session_update${sql.raw(isPostgres(db) ? ' on sessions' : '')}`.execute(db);
}

test('PUT /me/password: if ending the other sessions fails, the password is not changed', async (t) => {
  const { app, db } = await build(t);
  const other = await loginPair(app); // another device, whose session the change must end
  const current = await loginPair(app);
  await breakSessionUpdates(db);
  const res = await app.inject({
    method: 'PUT',
    url: '/me/password',
    headers: current.headers,
    payload: { current_password: ORIGINAL_USER.password, new_password: NEW_PASSWORD },
  });
  assert.ok(res.statusCode >= 500, `${res.statusCode} ${res.body}`);
  assert.deepEqual(Object.keys(body(res)).sort(), ['code', 'message']);
  await repairSessionUpdates(db);
  assert.equal((await login(app)).statusCode, 201, 'the old password still logs in');
  assert.equal(
    (await login(app, { ...ORIGINAL_USER, password: NEW_PASSWORD })).statusCode,
    401,
    'the new password does not',
  );
  assert.equal(await status(app, '/me', other.headers), 200, 'nothing changed, so nothing ended');
});

test('PUT /me/password: the change and the end of the other sessions happen together', async (t) => {
  const { app } = await build(t);
  const other = await loginPair(app);
  const current = await loginPair(app);
  const res = await app.inject({
    method: 'PUT',
    url: '/me/password',
    headers: current.headers,
    payload: { current_password: ORIGINAL_USER.password, new_password: NEW_PASSWORD },
  });
  assert.equal(res.statusCode, 200);
  assert.equal(await status(app, '/me', other.headers), 401);
  assert.equal(await status(app, '/me', current.headers), 200);
  assert.equal((await login(app, { ...ORIGINAL_USER, password: NEW_PASSWORD })).statusCode, 201);
});

test('PATCH /admin/users disabled: if ending the sessions fails, the account stays enabled', async (t) => {
  const { app, db } = await build(t);
  await loginPair(app, 'root');
  await makeAdmin(db, 'root');
  const admin = await loginPair(app, 'root');
  const reader = await loginPair(app, 'reader');
  await breakSessionUpdates(db);
  const res = await app.inject({
    method: 'PATCH',
    url: `/admin/users/${await publicIdOf(db, 'reader')}`,
    headers: admin.headers,
    payload: { disabled: true },
  });
  assert.ok(res.statusCode >= 500, `${res.statusCode} ${res.body}`);
  await repairSessionUpdates(db);
  const row = await db
    .selectFrom('users')
    .select('disabled')
    .where('username', '=', 'reader')
    .executeTakeFirst();
  assert.equal(row?.disabled, 0);
  assert.equal(await status(app, '/me', reader.headers), 200);
});
