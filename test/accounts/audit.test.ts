// The audit trail: every auth event persisted without a secret, a user's own activity, the admin
// audit log with its filters and pages, and the retention job that keeps it bounded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Lease } from '../../src/jobs/lease.js';
import { Retention } from '../../src/jobs/retention.js';
import { body, build, loginPair, makeAdmin, type Pair, publicIdOf } from '../helpers.js';

const PASSWORD = 'testing_p@ssword';

interface Event {
  id: number;
  at: string;
  type: string;
  outcome: string;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  by_admin?: boolean;
  actor_id?: string | null;
  subject_id?: string | null;
  username?: string | null;
  detail: Record<string, unknown> | null;
}

const activity = async (app: FastifyInstance, headers: Record<string, string>, query = '') => {
  const res = await app.inject({ method: 'GET', url: `/me/activity${query}`, headers });
  assert.equal(res.statusCode, 200, res.body);
  return { events: body<{ events: Event[] }>(res).events, link: res.headers.link as string | undefined };
};

test('a login, refresh, reuse and revoke story leaves its trail, in order, with no secret in it', async (t) => {
  const { app, db } = await build(t, { REFRESH_REUSE_GRACE: '0' });
  const agent = { 'user-agent': 'story-client/1.0' };
  await app.inject({ method: 'POST', url: '/signup', payload: { username: 'alice', password: PASSWORD } });
  const failed = await app.inject({
    method: 'POST',
    url: '/login',
    payload: { username: 'alice', password: 'not the password' },
    headers: agent,
  });
  assert.equal(failed.statusCode, 401);
  await app.inject({ method: 'POST', url: '/login', payload: { username: 'nobody-here', password: 'x' } });
  const first = await loginPair(app, 'alice');
  const rotated = await app.inject({
    method: 'POST',
    url: '/token/refresh',
    payload: { refresh_token: first.refresh_token },
    headers: agent,
  });
  assert.equal(rotated.statusCode, 201);
  // The spent token again, after the grace: reuse, the session ends.
  const reused = await app.inject({
    method: 'POST',
    url: '/token/refresh',
    payload: { refresh_token: first.refresh_token },
  });
  assert.equal(reused.statusCode, 401);
  const second = await loginPair(app, 'alice');
  const token = await app.inject({
    method: 'POST',
    url: '/me/tokens',
    headers: second.headers,
    payload: { name: 'cron', scopes: ['books:read'] },
  });
  const tokenId = body<{ id: string }>(token).id;
  await app.inject({ method: 'DELETE', url: `/me/tokens/${tokenId}`, headers: second.headers });
  await app.inject({ method: 'POST', url: '/logout', headers: second.headers });
  const third = await loginPair(app, 'alice');

  const { events } = await activity(app, third.headers);
  assert.deepEqual(events.map((e) => `${e.type}:${e.outcome}`).reverse(), [
    'signup:success',
    'login.failure:failure',
    'login.success:success',
    'refresh:rotated',
    'refresh.reuse_detected:failure',
    'login.success:success',
    'token.created:success',
    'token.revoked:success',
    'logout:success',
    'login.success:success',
  ]);
  const byType = (type: string) => events.find((e) => e.type === type);
  assert.equal(byType('login.failure')?.user_agent, 'story-client/1.0');
  assert.equal(byType('refresh')?.user_agent, 'story-client/1.0');
  assert.equal(byType('refresh.reuse_detected')?.detail?.reason, 'after-grace');
  assert.deepEqual(byType('token.created')?.detail?.scopes, ['books:read']);
  // Login, refresh and reuse name the same session (its public id).
  const sessionOf = (type: string, nth = 0) =>
    events.filter((e) => e.type === type).reverse()[nth]?.session_id;
  assert.ok(sessionOf('login.success'));
  assert.equal(sessionOf('refresh'), sessionOf('login.success'));
  assert.equal(sessionOf('refresh.reuse_detected'), sessionOf('login.success'));
  assert.equal(sessionOf('logout'), sessionOf('login.success', 1));
  for (const e of events) assert.equal(e.by_admin, false);

  // Nothing secret is stored: not the password, not a token, not a refresh token or its hash.
  const rows = JSON.stringify(await db.selectFrom('audit_events').selectAll().execute());
  for (const secret of [
    PASSWORD,
    'not the password',
    first.refresh_token,
    first.token.split('.')[2] ?? '',
    body<{ token: string }>(token).token,
    body<{ refresh_token: string }>(rotated).refresh_token,
  ])
    assert.equal(rows.includes(secret), false, `${secret.slice(0, 6)}… stored`);
  // The unknown name is in the admin's log, not in anybody's activity.
  assert.ok(rows.includes('nobody-here'));
});

test('activity is the user’s own, paginated newest first by keyset with a Link header', async (t) => {
  const { app } = await build(t);
  const alice = await loginPair(app, 'alice');
  for (let i = 0; i < 4; i++) await loginPair(app, 'alice');
  await loginPair(app, 'bob');
  const all = (await activity(app, alice.headers)).events;
  assert.equal(all.length, 6, 'signup and five logins, none of bob’s');
  const page1 = await activity(app, alice.headers, '?limit=4');
  assert.deepEqual(
    page1.events.map((e) => e.id),
    all.slice(0, 4).map((e) => e.id),
  );
  const next = /<([^>]+)>; rel="next"/.exec(page1.link ?? '')?.[1];
  assert.equal(next, `/me/activity?limit=4&after=${all[3]?.id}`);
  const res = await app.inject({ method: 'GET', url: next ?? '', headers: alice.headers });
  assert.deepEqual(
    body<{ events: Event[] }>(res).events.map((e) => e.id),
    all.slice(4).map((e) => e.id),
  );
  assert.equal(res.headers.link, undefined);
  for (const bad of ['?limit=0', '?after=abc', '?after=-1', '?limit=1e3'])
    assert.equal(
      (await app.inject({ method: 'GET', url: `/me/activity${bad}`, headers: alice.headers })).statusCode,
      400,
    );
});

test('what an admin does to an account shows in its activity as by_admin, and in the audit log with the admin', async (t) => {
  const { app, db } = await build(t);
  const root = await loginPair(app, 'root');
  await makeAdmin(db, 'root');
  const alice = await loginPair(app, 'alice');
  const aliceId = await publicIdOf(db, 'alice');
  const rootId = await publicIdOf(db, 'root');
  const patch = (payload: object) =>
    app.inject({ method: 'PATCH', url: `/admin/users/${aliceId}`, headers: root.headers, payload });
  assert.equal((await patch({ admin: true })).statusCode, 200);
  assert.equal((await patch({ admin: true })).statusCode, 200, 'no change, no event');
  assert.equal((await patch({ admin: false, disabled: true })).statusCode, 200);
  assert.equal((await patch({ disabled: false })).statusCode, 200);
  await app.inject({ method: 'DELETE', url: `/admin/users/${aliceId}/sessions`, headers: root.headers });

  const again = await loginPair(app, 'alice');
  const mine = (await activity(app, again.headers)).events.filter((e) => e.by_admin);
  assert.deepEqual(mine.map((e) => e.type).reverse(), [
    'account.promoted',
    'account.demoted',
    'account.disabled',
    'account.enabled',
    'sessions.ended',
  ]);
  assert.equal(JSON.stringify(mine).includes(rootId), false, 'the admin’s id is not shown to the user');

  const log = await app.inject({
    method: 'GET',
    url: `/admin/audit?user=${aliceId}&type=account.disabled`,
    headers: root.headers,
  });
  assert.equal(log.statusCode, 200, log.body);
  const [entry, ...rest] = body<{ events: Event[] }>(log).events;
  assert.equal(rest.length, 0);
  assert.equal(entry?.actor_id, rootId);
  assert.equal(entry?.subject_id, aliceId);
  // The admin's own address and agent are not shown to the user either.
  for (const e of mine) {
    assert.equal(e.ip, null);
    assert.equal(e.user_agent, null);
  }
  void alice;
});

test('a name typed at a failed login is stored clean: no control or format characters, cut by code point', async (t) => {
  const { app, db } = await build(t);
  for (const username of ['x\u0000y', 'esc\u001b[31m', 'rtl\u202egnp.exe', `${'😀'.repeat(63)}é😀😀`]) {
    const res = await app.inject({
      method: 'POST',
      url: '/login',
      payload: { username, password: 'whatever' },
    });
    assert.equal(res.statusCode, 401);
  }
  const rows = await db
    .selectFrom('audit_events')
    .select('username')
    .where('type', '=', 'login.failure')
    .orderBy('id')
    .execute();
  assert.deepEqual(
    rows.map((r) => r.username),
    ['xy', 'esc[31m', 'rtlgnp.exe', `${'😀'.repeat(63)}é`],
  );
});

test('the admin audit log: filters combine, pages carry them, bad filters are 400, users get 403', async (t) => {
  const { app, db, clock } = await build(t);
  await loginPair(app, 'root');
  await makeAdmin(db, 'root');
  await loginPair(app, 'alice');
  clock.advance(3600);
  const root = await loginPair(app, 'root');
  const since = new Date(clock.now()).toISOString();
  for (let i = 0; i < 3; i++) await loginPair(app, 'alice');
  await app.inject({ method: 'POST', url: '/login', payload: { username: 'ghost', password: 'x' } });
  const aliceId = await publicIdOf(db, 'alice');
  const get = (query: string, headers = root.headers) =>
    app.inject({ method: 'GET', url: `/admin/audit${query}`, headers });

  const recent = body<{ events: Event[] }>(
    await get(`?user=${aliceId}&type=login.success&since=${since}`),
  ).events;
  assert.equal(recent.length, 3);
  const page = await get(`?user=${aliceId}&type=login.success&since=${encodeURIComponent(since)}&limit=2`);
  const next = /<([^>]+)>; rel="next"/.exec(String(page.headers.link))?.[1] ?? '';
  const params = new URLSearchParams(next.split('?')[1]);
  assert.equal(params.get('user'), aliceId);
  assert.equal(params.get('type'), 'login.success');
  assert.equal(params.get('since'), since);
  const rest = body<{ events: Event[] }>(await get(`?${params}`)).events;
  assert.equal(rest.length, 1);
  assert.equal(rest[0]?.id, recent[2]?.id);

  const ghost = body<{ events: Event[] }>(await get('?type=login.failure')).events;
  assert.equal(ghost[0]?.username, 'ghost');
  assert.equal(ghost[0]?.subject_id, null);

  for (const bad of ['?type=nope', '?since=yesterday', '?user=alice', '?after=0', '?limit=5000'])
    assert.equal((await get(bad)).statusCode, 400, bad);
  const alice = await loginPair(app, 'alice');
  assert.equal((await get('', alice.headers)).statusCode, 403);
});

test('throttled logins are logged each time but persisted once a minute per account and address', async (t) => {
  const { app, db, clock } = await build(t, { LOGIN_MAX_FAILURES: '2' });
  await loginPair(app, 'alice');
  for (let i = 0; i < 8; i++)
    await app.inject({
      method: 'POST',
      url: '/login',
      payload: { username: 'alice', password: `wrong ${i}` },
    });
  const count = async () =>
    (await db.selectFrom('audit_events').select('id').where('type', '=', 'login.throttled').execute()).length;
  assert.equal(await count(), 1);
  clock.advance(61);
  await app.inject({
    method: 'POST',
    url: '/login',
    payload: { username: 'alice', password: 'wrong again' },
  });
  assert.equal(await count(), 2);
});

test('retention: events older than AUDIT_RETENTION and long-ended sessions are pruned, by one process at a time', async (t) => {
  const { app, db, clock } = await build(t, { AUDIT_RETENTION: '30d' });
  const old = await loginPair(app, 'alice');
  await app.inject({ method: 'POST', url: '/logout', headers: old.headers });
  clock.advance(31 * 86_400);
  const fresh = await loginPair(app, 'alice');
  const before = (await activity(app, fresh.headers)).events.length;
  assert.equal(before, 4);

  const other = new Retention({ db, clock, log: app.log, auditRetention: 30 * 86_400 });
  // Of many processes asking for the lease at once, exactly one gets it.
  const contenders = Array.from({ length: 8 }, () => new Lease(db, 'contended'));
  const won = await Promise.all(contenders.map((l) => l.take(clock.now(), 60_000)));
  assert.equal(won.filter(Boolean).length, 1, 'exactly one lease holder');
  // While another process holds the retention lease, neither runs.
  const holder = new Lease(db, 'retention');
  assert.equal(await holder.take(clock.now(), 60_000), true);
  assert.equal(await app.retention.runOnce(), undefined);
  assert.equal(await other.runOnce(), undefined);
  await holder.release();
  const ran = await other.runOnce();
  assert.equal(ran?.events, 3, 'signup, the first login and its logout');
  assert.equal(ran?.sessions, 1, 'the session that ended 31 days ago');
  const after = (await activity(app, fresh.headers)).events;
  assert.deepEqual(
    after.map((e) => e.type),
    ['login.success'],
  );
  assert.equal((await app.inject({ method: 'GET', url: '/me', headers: fresh.headers })).statusCode, 200);
  // The lease was released: the next run may go at once.
  assert.deepEqual(await other.runOnce(), { events: 0, sessions: 0, tokens: 0 });
  // A lease held far beyond its length (a holder whose clock ran ahead, then died) is taken over.
  await db
    .insertInto('job_leases')
    .values({ name: 'retention', holder: 'ghost', until: clock.now() + 365 * 86_400_000 })
    .execute();
  assert.deepEqual(await other.runOnce(), { events: 0, sessions: 0, tokens: 0 });
});

test('authenticated reads write nothing', async (t) => {
  const { app, db } = await build(t);
  const alice: Pair = await loginPair(app, 'alice');
  const count = async () => (await db.selectFrom('audit_events').select('id').execute()).length;
  const before = await count();
  for (const url of ['/bookapi/books', '/me', '/me/activity', '/me/sessions', '/me/tokens'])
    assert.equal((await app.inject({ method: 'GET', url, headers: alice.headers })).statusCode, 200, url);
  assert.equal(await count(), before);
});
