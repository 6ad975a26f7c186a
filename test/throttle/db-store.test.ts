// The database counter store on its own, on SQLite and PostgreSQL (BOOKAPI_TEST_DB).
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import pino from 'pino';
import { createDatabase, type Db } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { DbCounterStore } from '../../src/throttle/db-store.js';
import { testConfig, testDatabaseUrl } from '../helpers.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MINUTE = 60_000;

async function open(t: TestContext): Promise<{ db: Db; store: DbCounterStore }> {
  const db = createDatabase(testConfig({ DATABASE_URL: await testDatabaseUrl(t) }).database);
  t.after(() => db.destroy());
  await migrateToLatest(db);
  return { db, store: new DbCounterStore(db, pino({ level: 'silent' })) };
}

const hits = async (db: Db, key: string) =>
  (await db.selectFrom('throttle_counters').select('hits').where('key', '=', key).executeTakeFirst())?.hits;

test('a full window refuses, and a refused hit counts on no key at all', async (t) => {
  const { db, store } = await open(t);
  const a = { key: 'a', max: 2, windowMs: 15 * MINUTE };
  const b = { key: 'b', max: 10, windowMs: 60 * MINUTE };
  assert.deepEqual(await store.hit([a, b], T0), { admitted: true });
  assert.deepEqual(await store.hit([a, b], T0 + MINUTE), { admitted: true });
  for (let i = 0; i < 5; i++)
    assert.deepEqual(await store.hit([a, b], T0 + 2 * MINUTE), {
      admitted: false,
      resetAt: T0 + 15 * MINUTE,
    });
  assert.equal(await hits(db, 'a'), 2);
  assert.equal(await hits(db, 'b'), 2, 'b did not pay for the refused attempts');
});

test('when several keys refuse, the answer is the latest of their window ends', async (t) => {
  const { store } = await open(t);
  const short = { key: 's', max: 1, windowMs: 15 * MINUTE };
  const long = { key: 'l', max: 1, windowMs: 60 * MINUTE };
  await store.hit([short, long], T0);
  assert.deepEqual(await store.hit([short, long], T0 + MINUTE), {
    admitted: false,
    resetAt: T0 + 60 * MINUTE,
  });
});

test('a closed window starts again from one, with a new end', async (t) => {
  const { db, store } = await open(t);
  const a = { key: 'a', max: 1, windowMs: 15 * MINUTE };
  await store.hit([a], T0);
  assert.equal((await store.hit([a], T0 + 15 * MINUTE - 1)).admitted, false);
  assert.deepEqual(await store.hit([a], T0 + 15 * MINUTE), { admitted: true });
  const row = await db.selectFrom('throttle_counters').selectAll().executeTakeFirstOrThrow();
  assert.deepEqual(
    { hits: row.hits, reset_at: Number(row.reset_at) },
    { hits: 1, reset_at: T0 + 30 * MINUTE },
  );
});

test('taking back never goes below zero, creates no key, and leaves closed windows alone', async (t) => {
  const { db, store } = await open(t);
  const a = { key: 'a', max: 5, windowMs: 15 * MINUTE };
  await store.hit([a], T0);
  await store.takeBack(['a', 'missing'], T0 + MINUTE);
  await store.takeBack(['a'], T0 + MINUTE);
  assert.equal(await hits(db, 'a'), 0);
  assert.equal(await hits(db, 'missing'), undefined);
  await store.hit([a], T0 + 2 * MINUTE);
  await store.takeBack(['a'], T0 + 15 * MINUTE);
  assert.equal(await hits(db, 'a'), 1, 'a window that has closed is not touched');
});

test('parallel hits on one key: exactly max are counted', async (t) => {
  const { db, store } = await open(t);
  const limits = [
    { key: 'user', max: 5, windowMs: 15 * MINUTE },
    { key: 'client', max: 100, windowMs: 15 * MINUTE },
  ];
  // Half in the opposite key order: the store must not deadlock on PostgreSQL.
  const answers = await Promise.all(
    Array.from({ length: 30 }, (_, i) => store.hit(i % 2 ? limits : [...limits].reverse(), T0)),
  );
  assert.equal(answers.filter((a) => a.admitted).length, 5);
  assert.equal(await hits(db, 'user'), 5);
  assert.equal(await hits(db, 'client'), 5);
});

test('many distinct keys: hits stay as fast, and closed windows are pruned in batches', async (t) => {
  const { db, store } = await open(t);
  const timeHits = async (from: number, count: number) => {
    const start = process.hrtime.bigint();
    for (let i = from; i < from + count; i++)
      await store.hit([{ key: `k${i}`, max: 5, windowMs: 15 * MINUTE }], T0 + 1);
    return Number(process.hrtime.bigint() - start);
  };
  await timeHits(0, 20); // warm-up: prepared statements, connections
  const first = await timeHits(20, 100);
  for (let chunk = 0; chunk < 10; chunk++) {
    const rows = Array.from({ length: 500 }, (_, i) => ({
      key: `filler${chunk * 500 + i}`,
      hits: 1,
      reset_at: T0 + 15 * MINUTE,
    }));
    await db.insertInto('throttle_counters').values(rows).execute();
  }
  const last = await timeHits(120, 100);
  assert.ok(
    last < first * 3,
    `100 hits: ${first / 1e6} ms on a small table, ${last / 1e6} ms on 5,000 more rows`,
  );
  const count = async () =>
    Number(
      (
        await db
          .selectFrom('throttle_counters')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  assert.equal(await count(), 5_220);
  // Within the prune interval nothing is scanned; after it, each hit deletes a batch (1,000) until none is left.
  const later = T0 + 16 * MINUTE;
  for (let i = 0; i < 5; i++) await store.hit([{ key: 'fresh', max: 100, windowMs: MINUTE }], later);
  assert.ok((await count()) > 1, 'five batches are not all of them');
  await store.hit([{ key: 'fresh', max: 100, windowMs: MINUTE }], later);
  assert.equal(await count(), 1);
});
