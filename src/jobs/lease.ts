import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';

/**
 * One holder at a time for a background job, across workers and instances
 * sharing the database: a row per job naming its holder until a time. Taking
 * it is one conditional upsert, so of two processes asking at once exactly
 * one gets it; a holder that dies simply lets it lapse. A lease that runs
 * further ahead than any holder takes it (a holder whose clock was wrong)
 * is taken over, rather than stopping the job for good.
 */
export class Lease {
  private readonly holder = randomUUID();

  constructor(
    private readonly db: Db,
    private readonly name: string,
  ) {}

  /** Whether this process now holds the lease, until `now + ms`. */
  async take(now: number, ms: number): Promise<boolean> {
    const result = await sql`
      insert into job_leases (name, holder, until) values (${this.name}, ${this.holder}, ${now + ms})
      on conflict (name) do update set holder = excluded.holder, until = excluded.until
      where job_leases.until < ${now} or job_leases.holder = ${this.holder}
        or job_leases.until > ${now + ms}`.execute(this.db);
    return Number(result.numAffectedRows ?? 0n) > 0;
  }

  /** Lets it go early, so the next run need not wait for it to lapse. */
  async release(): Promise<void> {
    await this.db
      .deleteFrom('job_leases')
      .where('name', '=', this.name)
      .where('holder', '=', this.holder)
      .execute();
  }
}
