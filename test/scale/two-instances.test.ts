// Two real server processes on one PostgreSQL database, as behind a load balancer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ORIGINAL_USER, TEST_DB, testDatabaseUrl } from '../helpers.js';
import { call, type ServerProcess, startServer, stopServer } from '../process.js';

const postgresOnly =
  TEST_DB === 'postgres' ? {} : { skip: 'runs in the PostgreSQL suite (set TEST_POSTGRES_URL)' };
const REDIS_URL = process.env.TEST_REDIS_URL;

async function twoInstances(t: Parameters<typeof testDatabaseUrl>[0], env: Record<string, string> = {}) {
  const url = await testDatabaseUrl(t);
  const common = { DATABASE_URL: url, REFRESH_REUSE_GRACE: '0', LOG_LEVEL: 'info', ...env };
  const servers: ServerProcess[] = [startServer(common), startServer(common)];
  for (const s of servers) t.after(() => stopServer(s));
  const [a = '', b = ''] = await Promise.all(servers.map((s) => s.ready()));
  return { a, b };
}

async function loginOn(base: string, username: string) {
  await call(base, 'POST', '/signup', { username, password: ORIGINAL_USER.password });
  const res = await call(base, 'POST', '/login', { username, password: ORIGINAL_USER.password });
  assert.equal(res.status, 201);
  const body = res.body as { token: string; refresh_token: string };
  return { ...body, headers: { authorization: `Bearer ${body.token}` } };
}

test(
  'a token from A works on B; a logout on A is refused on B at the next request',
  postgresOnly,
  async (t) => {
    const { a, b } = await twoInstances(t);
    const alice = await loginOn(a, 'alice');
    assert.equal((await call(b, 'GET', '/bookapi/books', undefined, alice.headers)).status, 200);
    assert.equal((await call(a, 'POST', '/logout', undefined, alice.headers)).status, 200);
    const refused = await call(b, 'GET', '/bookapi/books', undefined, alice.headers);
    assert.deepEqual(refused, {
      status: 401,
      body: { message: 'Token has been revoked!', code: 'TOKEN_REVOKED' },
    });
  },
);

test('refresh reuse detected on B revokes the family created on A', postgresOnly, async (t) => {
  const { a, b } = await twoInstances(t);
  const bob = await loginOn(a, 'bob');
  const rotated = await call(a, 'POST', '/token/refresh', { refresh_token: bob.refresh_token });
  assert.equal(rotated.status, 201);
  const newest = rotated.body as { token: string; refresh_token: string };
  const replay = await call(b, 'POST', '/token/refresh', { refresh_token: bob.refresh_token });
  assert.equal(replay.status, 401);
  assert.equal(
    (await call(a, 'POST', '/token/refresh', { refresh_token: newest.refresh_token })).status,
    401,
  );
  const after = await call(a, 'GET', '/me', undefined, { authorization: `Bearer ${newest.token}` });
  assert.equal(after.status, 401);
});

test(
  'the same username signed up on A and B at once: exactly one 201 and one 409',
  postgresOnly,
  async (t) => {
    const { a, b } = await twoInstances(t);
    for (let i = 0; i < 5; i++) {
      const payload = { username: `racer${i}`, password: ORIGINAL_USER.password };
      const answers = await Promise.all([
        call(a, 'POST', '/signup', payload),
        call(b, 'POST', '/signup', payload),
      ]);
      assert.deepEqual(answers.map((r) => r.status).sort(), [201, 409], `round ${i}`);
    }
  },
);

test('the same book created on A and B at once: one success and one 409', postgresOnly, async (t) => {
  const { a, b } = await twoInstances(t);
  const carol = await loginOn(a, 'carol');
  for (let i = 0; i < 5; i++) {
    const book = { title: `Race ${i}`, author: 'Both' };
    const answers = await Promise.all([
      call(a, 'POST', '/bookapi/books', book, carol.headers),
      call(b, 'POST', '/bookapi/addbook', { ...book, title: ` race ${i} ` }, carol.headers),
    ]);
    const statuses = answers.map((r) => r.status).sort();
    assert.equal(statuses.filter((s) => s === 409).length, 1, `round ${i}: ${statuses}`);
    assert.ok(
      statuses.some((s) => s === 200 || s === 201),
      `round ${i}: ${statuses}`,
    );
  }
  const list = await call(b, 'GET', '/bookapi/books', undefined, carol.headers);
  assert.equal((list.body.Books as unknown[]).length, 5);
});

test(
  'with REDIS_URL, failed logins on A and B count together',
  TEST_DB !== 'postgres' ? postgresOnly : REDIS_URL ? {} : { skip: 'set TEST_REDIS_URL to run it' },
  async (t) => {
    const { a, b } = await twoInstances(t, {
      REDIS_URL: REDIS_URL ?? '',
      REDIS_PREFIX: `test:${randomBytes(6).toString('hex')}:`,
    });
    await call(a, 'POST', '/signup', ORIGINAL_USER);
    const wrong = { username: ORIGINAL_USER.username, password: 'wrong password' };
    for (const base of [a, b, a, b, a]) assert.equal((await call(base, 'POST', '/login', wrong)).status, 401);
    const blocked = await call(b, 'POST', '/login', ORIGINAL_USER);
    assert.equal(blocked.status, 429, 'the sixth attempt, on B, counts A’s failures too');
  },
);
