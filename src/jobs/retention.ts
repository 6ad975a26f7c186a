import type { FastifyBaseLogger } from 'fastify';
import { pruneEvents } from '../audit/repository.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { Lease } from './lease.js';

const EVERY_MS = 60 * 60_000;
/** The first run, soon after start but not during it. */
const FIRST_MS = 60_000;
const LEASE_MS = 10 * 60_000;
const BATCH = 5_000;
/** Sessions and personal access tokens that ended are kept this long (their events stay longer). */
const ENDED_KEPT_MS = 7 * 86_400_000;

export interface RetentionOptions {
  db: Db;
  clock: Clock;
  log: FastifyBaseLogger;
  /** AUDIT_RETENTION in seconds. */
  auditRetention: number;
}

/**
 * Keeps the tables that grow with use bounded: audit events older than
 * AUDIT_RETENTION, and sessions and personal access tokens a week after they
 * ended (expired or revoked). Once an hour, on one process at a time (a
 * lease row), in batches, so no delete holds a lock for long.
 */
export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly lease: Lease;

  constructor(private readonly o: RetentionOptions) {
    this.lease = new Lease(o.db, 'retention');
  }

  start(): void {
    const schedule = (ms: number) => {
      this.timer = setTimeout(() => {
        this.running = this.runOnce()
          .then(() => undefined)
          .finally(() => {
            this.running = undefined;
            schedule(EVERY_MS);
          });
      }, ms);
      this.timer.unref();
    };
    schedule(FIRST_MS);
  }

  /** One pass, if this process gets the lease: what it deleted, or undefined if another holds it. */
  async runOnce(): Promise<{ events: number; sessions: number; tokens: number } | undefined> {
    const { db, clock, log } = this.o;
    try {
      const now = clock.now();
      if (!(await this.lease.take(now, LEASE_MS))) return undefined;
      try {
        const events = await drain(() => pruneEvents(db, now - this.o.auditRetention * 1000, BATCH));
        const ended = now - ENDED_KEPT_MS;
        const sessions = await drain(async () => {
          const batch = db
            .selectFrom('sessions')
            .select('id')
            .where((eb) => eb.or([eb('expires_at', '<', ended), eb('revoked_at', '<', ended)]))
            .limit(BATCH);
          const r = await db.deleteFrom('sessions').where('id', 'in', batch).executeTakeFirst();
          return Number(r.numDeletedRows);
        });
        const tokens = await drain(async () => {
          const batch = db
            .selectFrom('personal_access_tokens')
            .select('id')
            .where((eb) => eb.or([eb('expires_at', '<', ended), eb('revoked_at', '<', ended)]))
            .limit(BATCH);
          const r = await db.deleteFrom('personal_access_tokens').where('id', 'in', batch).executeTakeFirst();
          return Number(r.numDeletedRows);
        });
        if (events + sessions + tokens > 0)
          log.info({ event: 'retention.pruned', events, sessions, tokens }, 'old records pruned');
        return { events, sessions, tokens };
      } finally {
        await this.lease.release();
      }
    } catch (error) {
      log.warn({ err: error }, 'pruning old records failed; it runs again in an hour');
      return undefined;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}

async function drain(batch: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await batch();
    total += n;
    if (n < BATCH) return total;
  }
}
