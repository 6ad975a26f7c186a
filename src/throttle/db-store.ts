import type { FastifyBaseLogger } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { writeTransaction } from '../db/write-transaction.js';
import type { Admission, CounterStore, Limit } from './store.js';

/** Closed windows are deleted at most once a minute per process, a bounded batch at a time. */
const PRUNE_INTERVAL_MS = 60_000;
const PRUNE_BATCH = 1000;

class Refused {
  constructor(readonly resetAt: number) {}
}

/**
 * Counters in the database (table `throttle_counters`): every worker and
 * instance on one database shares them, and a restart forgets nothing. Each
 * hit is one transaction of conditional upserts, so concurrent attempts are
 * serialised by the database itself — on SQLite by its write lock (taken at
 * BEGIN), on PostgreSQL by the row locks of ON CONFLICT DO UPDATE, taken in
 * key order so two attempts never wait on each other crosswise.
 */
export class DbCounterStore implements CounterStore {
  private nextPruneAt = 0;

  constructor(
    private readonly db: Db,
    private readonly log: FastifyBaseLogger,
  ) {}

  async hit(limits: readonly Limit[], now: number): Promise<Admission> {
    const ordered = [...limits].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    try {
      await writeTransaction(this.db, async (trx) => {
        const refusals: number[] = [];
        for (const limit of ordered) {
          if (!(await countHit(trx, limit, now))) refusals.push(await resetAt(trx, limit, now));
        }
        // Rolls back the hits already counted on the other keys: all or nothing.
        if (refusals.length > 0) throw new Refused(Math.max(...refusals));
      });
    } catch (error) {
      if (error instanceof Refused) return { admitted: false, resetAt: error.resetAt };
      throw error;
    }
    await this.pruneWhenDue(now);
    return { admitted: true };
  }

  async takeBack(keys: readonly string[], now: number): Promise<void> {
    if (keys.length === 0) return;
    await this.db
      .updateTable('throttle_counters')
      .set((eb) => ({ hits: eb('hits', '-', 1) }))
      .where('key', 'in', keys)
      .where('hits', '>', 0)
      .where('reset_at', '>', now)
      .execute();
  }

  /** The database is the app's own; /ready already pings it. */
  async healthy(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}

  /**
   * Keeps the table to the windows still open, without a full scan on any
   * request: the reset_at index finds closed windows, a batch at a time.
   */
  private async pruneWhenDue(now: number): Promise<void> {
    if (now < this.nextPruneAt) return;
    this.nextPruneAt = now + PRUNE_INTERVAL_MS;
    try {
      const result = await this.db
        .deleteFrom('throttle_counters')
        .where('key', 'in', (eb) =>
          eb.selectFrom('throttle_counters').select('key').where('reset_at', '<=', now).limit(PRUNE_BATCH),
        )
        .executeTakeFirst();
      // A full batch means more are waiting: take the next one with the next hit.
      if (Number(result.numDeletedRows) >= PRUNE_BATCH) this.nextPruneAt = now;
    } catch (error) {
      // Pruning is housekeeping: the attempt was counted, so it goes on.
      this.log.warn({ err: error }, 'pruning closed throttling windows failed');
    }
  }
}

/** Counts the hit unless the window is open and full; a closed window starts again at 1. True if counted. */
async function countHit(trx: Db, limit: Limit, now: number): Promise<boolean> {
  const row = await trx
    .insertInto('throttle_counters')
    .values({ key: limit.key, hits: 1, reset_at: now + limit.windowMs })
    .onConflict((oc) =>
      oc
        .column('key')
        .doUpdateSet({
          hits: sql`case when throttle_counters.reset_at <= ${now} then 1 else throttle_counters.hits + 1 end`,
          reset_at: sql`case when throttle_counters.reset_at <= ${now} then excluded.reset_at else throttle_counters.reset_at end`,
        })
        .where((eb) =>
          eb.or([eb('throttle_counters.reset_at', '<=', now), eb('throttle_counters.hits', '<', limit.max)]),
        ),
    )
    .returning('hits')
    .executeTakeFirst();
  return row !== undefined;
}

async function resetAt(trx: Db, limit: Limit, now: number): Promise<number> {
  const row = await trx
    .selectFrom('throttle_counters')
    .select('reset_at')
    .where('key', '=', limit.key)
    .executeTakeFirst();
  return row ? Number(row.reset_at) : now + limit.windowMs;
}
