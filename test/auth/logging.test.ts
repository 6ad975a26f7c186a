import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { buildApp } from '../../src/app.js';
import { createDatabase } from '../../src/db/database.js';
import { loggerOptions } from '../../src/logger.js';
import { FakeClock, makeAdmin, ORIGINAL_USER, publicIdOf, testConfig } from '../helpers.js';

test('auth events are logged as structured events, never with a password or a whole token', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const config = testConfig({ REFRESH_REUSE_GRACE: '0', LOGIN_MAX_FAILURES: '2' });
  const db = createDatabase(config.database);
  const app = await buildApp({
    config,
    db,
    clock: new FakeClock(),
    logger: { ...loggerOptions('info'), stream },
  });
  t.after(() => app.close());
  const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, payload, headers });

  await post('/signup', ORIGINAL_USER);
  await post('/login', { ...ORIGINAL_USER, password: 'wrong password 1' });
  await post('/login', { ...ORIGINAL_USER, password: 'wrong password 2' });
  await post('/login', ORIGINAL_USER); // throttled
  await post('/signup', { username: 'root', password: ORIGINAL_USER.password });
  await makeAdmin(db, 'root');
  const login = (await post('/login', { username: 'root', password: ORIGINAL_USER.password })).json();
  const headers = { authorization: `Bearer ${login.token}` };
  await post('/token/refresh', { refresh_token: login.refresh_token });
  await post('/token/refresh', { refresh_token: login.refresh_token }); // reuse
  const again = (await post('/login', { username: 'root', password: ORIGINAL_USER.password })).json();
  const fresh = { authorization: `Bearer ${again.token}` };
  await app.inject({
    method: 'PATCH',
    url: `/admin/users/${await publicIdOf(db, ORIGINAL_USER.username)}`,
    headers: fresh,
    payload: { disabled: true },
  });
  await app.inject({
    method: 'PUT',
    url: '/me/password',
    headers: fresh,
    payload: { current_password: ORIGINAL_USER.password, new_password: 'a brand new passphrase' },
  });
  // Tokens put in the query string by mistake: refused, and kept out of the request log.
  const pat = `bkp_${'Q'.repeat(43)}`;
  for (const url of [
    `/me?access_token=${again.token}`,
    `/bookapi/books?q=dune&token=${encodeURIComponent(pat)}`,
    `/bookapi/books?x=${pat}`,
    `/bookapi/books?${pat}`,
    `/bookapi/books?q=Bearer%20${again.token}`,
    `/bookapi/books?a=1;%74oken=${pat}`,
  ])
    assert.equal((await app.inject({ method: 'GET', url })).statusCode, 401);
  await post('/logout', {}, fresh);
  await post('/logout/all', {}, headers);

  const events = lines.map((l) => l.event).filter(Boolean);
  for (const event of [
    'signup',
    'login.failure',
    'login.throttled',
    'login.success',
    'refresh',
    'refresh.reuse_detected',
    'account.disabled',
    'password.changed',
    'logout',
  ]) {
    assert.ok(events.includes(event), `event ${event} logged (got ${events.join(', ')})`);
  }
  const all = JSON.stringify(lines);
  for (const secret of [
    ORIGINAL_USER.password,
    'wrong password 1',
    'a brand new passphrase',
    login.refresh_token,
  ]) {
    assert.equal(all.includes(secret), false, `"${secret.slice(0, 8)}…" leaked`);
  }
  for (const token of [login.token, again.token])
    assert.equal(all.includes(token.split('.')[2]), false, 'token leaked');
  assert.equal(all.includes('Q'.repeat(43)), false, 'a personal access token in the query leaked');
  const urls = lines.map((l) => (l.req as { url?: string } | undefined)?.url).filter(Boolean);
  assert.ok(urls.includes('/bookapi/books?q=dune&token=[redacted]'), urls.join(' '));
  assert.ok(urls.includes('/me?access_token=[redacted]'));
});
