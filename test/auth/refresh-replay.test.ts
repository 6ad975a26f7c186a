// Refresh-token replays within and after the grace: one session, one chain, whatever the timing.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { type TestContext, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { createDatabase, type Db } from '../../src/db/database.js';
import { body, FakeClock, loginPair, refresh, status, testConfig, testDatabaseUrl } from '../helpers.js';

interface Rotated {
  token: string;
  refresh_token: string;
}

/** An app whose log lines are kept, on the suite's database. */
async function buildLogged(t: TestContext, env: Record<string, string> = {}) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const config = testConfig({ DATABASE_URL: await testDatabaseUrl(t), ...env });
  const db = createDatabase(config.database);
  const clock = new FakeClock();
  const app = await buildApp({ config, db, clock, logger: { level: 'info', stream } });
  t.after(() => app.close());
  const events = (name: string) => lines.filter((l) => l.event === name);
  return { app, db, clock, events };
}

const replays = (app: FastifyInstance, token: string, n: number) =>
  Promise.all(Array.from({ length: n }, () => refresh(app, token)));

const books = (app: FastifyInstance, token: string) =>
  status(app, '/bookapi/books', { authorization: `Bearer ${token}` });

/** Refresh tokens of the session not yet spent: the live ones. */
async function liveTokens(db: Db): Promise<number> {
  const rows = await db
    .selectFrom('refresh_tokens')
    .select('token_hash')
    .where('used_at', 'is', null)
    .execute();
  return rows.length;
}

async function isRevoked(db: Db): Promise<boolean> {
  const rows = await db.selectFrom('sessions').select('revoked_at').execute();
  assert.equal(rows.length, 1);
  return rows[0]?.revoked_at !== null;
}

test('12 parallel replays of one spent token within the grace all get the same successor', async (t) => {
  const { app, db, clock, events } = await buildLogged(t);
  const first = await loginPair(app);
  const rotated = await refresh(app, first.refresh_token);
  assert.equal(rotated.statusCode, 201);
  const successor = body<Rotated>(rotated).refresh_token;
  clock.advance(2);

  const answers = await replays(app, first.refresh_token, 12);
  assert.deepEqual(
    answers.map((a) => a.statusCode),
    Array(12).fill(201),
  );
  const handedOut = new Set(answers.map((a) => body<Rotated>(a).refresh_token));
  assert.deepEqual([...handedOut], [successor], 'every replay gets the one successor back');
  for (const a of answers) assert.equal(await books(app, body<Rotated>(a).token), 200);
  assert.equal(await liveTokens(db), 1, 'the session has exactly one live refresh token');
  assert.equal(events('refresh.reuse_detected').length, 0);

  // The chain advances: the replayed token is now two generations back and ends the session.
  const next = await refresh(app, successor);
  assert.equal(next.statusCode, 201);
  const newest = body<Rotated>(next);
  assert.equal((await refresh(app, first.refresh_token)).statusCode, 401);
  assert.equal(await isRevoked(db), true);
  assert.equal((await refresh(app, newest.refresh_token)).statusCode, 401, 'the live token dies too');
  assert.equal(await books(app, newest.token), 401);
  assert.equal(events('refresh.reuse_detected').length, 1);
});

test('a stolen token replayed 8 times at once: at most one chain still refreshes', async (t) => {
  const { app, db, clock } = await buildLogged(t);
  const victim = await loginPair(app);
  const honest = body<Rotated>(await refresh(app, victim.refresh_token));
  clock.advance(1);
  const stolen = await replays(app, victim.refresh_token, 8);
  const chains = new Set([honest.refresh_token, ...stolen.map((a) => body<Rotated>(a).refresh_token)]);
  assert.equal(chains.size, 1, 'no new branch: the thief holds the honest client’s own token');
  // Whoever spends it first moves the one chain on; the other copy gets the same next token.
  const a = body<Rotated>(await refresh(app, honest.refresh_token));
  const b = body<Rotated>(await refresh(app, honest.refresh_token));
  assert.equal(a.refresh_token, b.refresh_token);
  assert.equal(await liveTokens(db), 1);
});

test('after the grace every replay ends the session, the live tokens included', async (t) => {
  const { app, db, clock, events } = await buildLogged(t);
  const first = await loginPair(app);
  const live = body<Rotated>(await refresh(app, first.refresh_token));
  clock.advance(10); // the grace is 10 s: its end is outside it
  const answers = await replays(app, first.refresh_token, 8);
  for (const a of answers)
    assert.deepEqual(body(a), { message: 'Invalid refresh token!', code: 'REFRESH_INVALID' });
  assert.deepEqual(
    answers.map((a) => a.statusCode),
    Array(8).fill(401),
  );
  assert.equal(await isRevoked(db), true);
  assert.equal((await refresh(app, live.refresh_token)).statusCode, 401);
  assert.equal(await books(app, live.token), 401);
  assert.ok(events('refresh.reuse_detected').length >= 1);
});

test('two tabs refreshing at once both stay logged in, on one chain', async (t) => {
  const { app, db, clock } = await buildLogged(t);
  const pair = await loginPair(app);
  const [a, b] = await Promise.all([refresh(app, pair.refresh_token), refresh(app, pair.refresh_token)]);
  assert.deepEqual([a.statusCode, b.statusCode], [201, 201]);
  const tabA = body<Rotated>(a);
  const tabB = body<Rotated>(b);
  assert.equal(tabA.refresh_token, tabB.refresh_token);
  assert.equal(await books(app, tabA.token), 200);
  assert.equal(await books(app, tabB.token), 200);
  // Later both refresh again, one after the other: still one chain, nobody logged out.
  clock.advance(600);
  const [c, d] = await Promise.all([refresh(app, tabA.refresh_token), refresh(app, tabB.refresh_token)]);
  assert.deepEqual([c.statusCode, d.statusCode], [201, 201]);
  assert.equal(body<Rotated>(c).refresh_token, body<Rotated>(d).refresh_token);
  assert.equal(await liveTokens(db), 1);
  assert.equal(await isRevoked(db), false);
});

test('a replay of the token two generations back ends the session, even within the grace', async (t) => {
  const { app, db } = await buildLogged(t);
  const t0 = await loginPair(app);
  const t1 = body<Rotated>(await refresh(app, t0.refresh_token));
  const t2 = body<Rotated>(await refresh(app, t1.refresh_token));
  assert.equal((await refresh(app, t0.refresh_token)).statusCode, 401);
  assert.equal(await isRevoked(db), true);
  assert.equal((await refresh(app, t2.refresh_token)).statusCode, 401);
  assert.equal(await books(app, t2.token), 401);
});

test('once the successor is used, replaying the previous token ends the session', async (t) => {
  const { app, db, clock } = await buildLogged(t);
  const t0 = await loginPair(app);
  const t1 = body<Rotated>(await refresh(app, t0.refresh_token));
  clock.advance(3);
  const t2 = body<Rotated>(await refresh(app, t1.refresh_token));
  clock.advance(3);
  // t1 was spent 3 s ago (inside the grace), but its successor t2 is spent now: not a lost answer.
  const t3 = body<Rotated>(await refresh(app, t2.refresh_token));
  assert.equal((await refresh(app, t1.refresh_token)).statusCode, 401);
  assert.equal(await isRevoked(db), true);
  assert.equal((await refresh(app, t3.refresh_token)).statusCode, 401);
});

test('a retry within the grace is refused once the session has ended', async (t) => {
  const { app, db } = await buildLogged(t);
  const t0 = await loginPair(app);
  const t1 = body<Rotated>(await refresh(app, t0.refresh_token));
  assert.equal((await app.inject({ method: 'POST', url: '/logout', headers: t0.headers })).statusCode, 200);
  assert.equal((await refresh(app, t0.refresh_token)).statusCode, 401);
  assert.equal((await refresh(app, t1.refresh_token)).statusCode, 401);
  assert.equal(await liveTokens(db), 1, 'nothing new was minted for an ended session');
});

test('with REFRESH_REUSE_GRACE=0 a second use of a token ends the session at once', async (t) => {
  const { app, db } = await buildLogged(t, { REFRESH_REUSE_GRACE: '0' });
  const pair = await loginPair(app);
  const answers = await replays(app, pair.refresh_token, 6);
  const statuses = answers.map((a) => a.statusCode).sort();
  assert.deepEqual(statuses, [201, 401, 401, 401, 401, 401]);
  assert.equal(await isRevoked(db), true);
});

test('neither the spent token nor its successor is stored, only their hashes', async (t) => {
  const { app, db } = await buildLogged(t);
  const t0 = await loginPair(app);
  const t1 = body<Rotated>(await refresh(app, t0.refresh_token));
  const rows = await db.selectFrom('refresh_tokens').selectAll().execute();
  assert.equal(rows.length, 2);
  const dump = JSON.stringify(rows);
  assert.equal(dump.includes(t0.refresh_token) || dump.includes(t1.refresh_token), false);
  assert.match(t1.refresh_token, /^[A-Za-z0-9_-]{43}$/);
});
