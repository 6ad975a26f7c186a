// The Redis counter store, against a real Redis (TEST_REDIS_URL) and an unreachable one.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { type TestContext, test } from 'node:test';
import { Redis } from 'ioredis';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { createDatabase } from '../../src/db/database.js';
import { ApiError } from '../../src/errors.js';
import { RedisCounterStore } from '../../src/throttle/redis-store.js';
import { FakeClock, ORIGINAL_USER, testConfig, testDatabaseUrl } from '../helpers.js';

const REDIS_URL = process.env.TEST_REDIS_URL;
const needsRedis = REDIS_URL ? {} : { skip: 'set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379) to run it' };
/** Nothing listens on port 1: connections are refused at once. */
const UNREACHABLE = 'redis://127.0.0.1:1';
const MINUTE = 60_000;

function recordingLog() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream, log: pino({ level: 'info' }, stream) };
}

/** A store under a prefix of its own, and a plain client to look at what it wrote; both cleaned up. */
async function openStore(t: TestContext) {
  const prefix = `test:${randomBytes(6).toString('hex')}:`;
  const store = new RedisCounterStore(REDIS_URL ?? '', prefix, pino({ level: 'silent' }));
  await store.connect();
  const redis = new Redis(REDIS_URL ?? '');
  t.after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await store.close();
  });
  return { store, redis, prefix };
}

test(
  'Redis: every counter gets its window as expiry; a full one refuses, counting on no key',
  needsRedis,
  async (t) => {
    const { store, redis, prefix } = await openStore(t);
    const now = Date.now();
    const a = { key: 'a', max: 2, windowMs: 15 * MINUTE };
    const b = { key: 'b', max: 10, windowMs: 60 * MINUTE };
    assert.deepEqual(await store.hit([a, b], now), { admitted: true });
    assert.deepEqual(await store.hit([a, b], now), { admitted: true });
    for (let i = 0; i < 5; i++) {
      const refused = await store.hit([a, b], now);
      assert.equal(refused.admitted, false);
      if (!refused.admitted) {
        assert.ok(refused.resetAt > now + 14 * MINUTE && refused.resetAt <= now + 15 * MINUTE);
      }
    }
    assert.equal(await redis.get(`${prefix}a`), '2');
    assert.equal(await redis.get(`${prefix}b`), '2', 'b did not pay for the refused attempts');
    const [ttlA, ttlB] = [await redis.pttl(`${prefix}a`), await redis.pttl(`${prefix}b`)];
    assert.ok(ttlA > 14 * MINUTE && ttlA <= 15 * MINUTE, String(ttlA));
    assert.ok(ttlB > 59 * MINUTE && ttlB <= 60 * MINUTE, String(ttlB));
  },
);

test(
  'Redis: taking back never goes below zero, never creates a key, never drops the expiry',
  needsRedis,
  async (t) => {
    const { store, redis, prefix } = await openStore(t);
    await store.takeBack(['missing']);
    assert.equal(await redis.exists(`${prefix}missing`), 0, 'no key without an expiry appears');
    const a = { key: 'a', max: 5, windowMs: 15 * MINUTE };
    await store.hit([a], Date.now());
    await store.takeBack(['a']);
    await store.takeBack(['a']);
    assert.equal(await redis.get(`${prefix}a`), '0');
    assert.ok((await redis.pttl(`${prefix}a`)) > 14 * MINUTE, 'the window keeps its end');
  },
);

test(
  'Redis: a counter found without an expiry gets one back instead of locking its key forever',
  needsRedis,
  async (t) => {
    const { store, redis, prefix } = await openStore(t);
    await redis.set(`${prefix}full`, '7');
    await redis.set(`${prefix}open`, '1');
    const now = Date.now();
    assert.equal((await store.hit([{ key: 'full', max: 5, windowMs: MINUTE }], now)).admitted, false);
    assert.equal((await store.hit([{ key: 'open', max: 5, windowMs: MINUTE }], now)).admitted, true);
    for (const key of ['full', 'open']) {
      const ttl = await redis.pttl(`${prefix}${key}`);
      assert.ok(ttl > 0 && ttl <= MINUTE, `${key}: ${ttl}`);
    }
  },
);

test('Redis: parallel hits on one key count exactly up to the max', needsRedis, async (t) => {
  const { store, redis, prefix } = await openStore(t);
  const limits = [{ key: 'user', max: 5, windowMs: MINUTE }];
  const answers = await Promise.all(Array.from({ length: 30 }, () => store.hit(limits, Date.now())));
  assert.equal(answers.filter((a) => a.admitted).length, 5);
  assert.equal(await redis.get(`${prefix}user`), '5');
});

test(
  'Redis: an app keyed through Redis stores only hashed keys, each with an expiry; /ready is 200',
  needsRedis,
  async (t) => {
    const prefix = `test:${randomBytes(6).toString('hex')}:`;
    const config = testConfig({
      DATABASE_URL: await testDatabaseUrl(t),
      REDIS_URL: REDIS_URL ?? '',
      REDIS_PREFIX: prefix,
    });
    const app = await buildApp({ config, db: createDatabase(config.database), clock: new FakeClock() });
    const redis = new Redis(REDIS_URL ?? '');
    t.after(async () => {
      await app.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });
    assert.equal((await app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
    await app.inject({ method: 'POST', url: '/signup', payload: ORIGINAL_USER });
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) {
      const payload = { username: ORIGINAL_USER.username, password: `wrong ${i}` };
      codes.push((await app.inject({ method: 'POST', url: '/login', payload })).statusCode);
    }
    assert.deepEqual(codes, [401, 401, 401, 401, 401, 429, 429]);
    const keys = await redis.keys(`${prefix}*`);
    assert.equal(keys.length, 4, keys.join(' ')); // a signup counter and three login counters
    for (const key of keys) {
      assert.doesNotMatch(key, /testing_user|127\.0\.0\.1/);
      assert.ok((await redis.pttl(key)) > 0, `${key} has an expiry`);
    }
  },
);

test('Redis unreachable: the store answers 503, logs the outage once with its cause, and is not healthy', async () => {
  const { lines, log } = recordingLog();
  const store = new RedisCounterStore(UNREACHABLE, 'test:', log);
  await store.connect();
  try {
    for (let i = 0; i < 3; i++) {
      await assert.rejects(
        store.hit([{ key: 'a', max: 5, windowMs: MINUTE }], Date.now()),
        (error) => error instanceof ApiError && error.statusCode === 503,
      );
    }
    assert.equal(await store.healthy(), false);
  } finally {
    await store.close();
  }
  const outages = lines.filter((l) => l.event === 'throttle.store_unavailable');
  assert.equal(outages.length, 1, JSON.stringify(lines));
  assert.match(JSON.stringify(outages[0]?.err), /ECONNREFUSED/);
});

test('Redis unreachable: logins and signups 503, /ready 503, /health 200; logged as an outage, not as throttling', async (t) => {
  const { lines, stream } = recordingLog();
  const config = testConfig({ DATABASE_URL: await testDatabaseUrl(t), REDIS_URL: UNREACHABLE });
  const app = await buildApp({
    config,
    db: createDatabase(config.database),
    clock: new FakeClock(),
    logger: { level: 'info', stream },
  });
  t.after(() => app.close());
  for (let i = 0; i < 3; i++) {
    const login = await app.inject({ method: 'POST', url: '/login', payload: ORIGINAL_USER });
    assert.equal(login.statusCode, 503);
    assert.deepEqual(login.json(), { message: 'Service unavailable', code: 'SERVICE_UNAVAILABLE' });
  }
  assert.equal(
    (await app.inject({ method: 'POST', url: '/signup', payload: ORIGINAL_USER })).statusCode,
    503,
  );
  const ready = await app.inject({ method: 'GET', url: '/ready' });
  assert.equal(ready.statusCode, 503);
  assert.equal(ready.json().code, 'SERVICE_UNAVAILABLE');
  assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
  const events = lines.map((l) => l.event);
  assert.equal(events.filter((e) => e === 'login.throttled').length, 0, 'an outage is no throttled login');
  const outages = lines.filter((l) => l.event === 'throttle.store_unavailable');
  assert.equal(outages.length, 1);
  assert.match(JSON.stringify(outages[0]?.err), /ECONNREFUSED/);
});
