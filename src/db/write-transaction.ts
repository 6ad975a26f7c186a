import { sql } from 'kysely';
import type { Db } from './database.js';
import { isPostgres } from './dialect.js';

/**
 * A transaction for a read-then-write that must not interleave with another.
 * On SQLite it starts with BEGIN IMMEDIATE: the database's write lock is taken
 * before the first read, so another process's commit cannot slip in between
 * (a plain BEGIN would read a snapshot, then fail with SQLITE_BUSY_SNAPSHOT
 * at its first write, bypassing the busy timeout). On PostgreSQL it is an
 * ordinary transaction: callers lock the rows they depend on (FOR UPDATE).
 */
export async function writeTransaction<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  if (isPostgres(db)) return db.transaction().execute(work);
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await work(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      // SQLite may already have rolled back by itself (a full disk, say); the first error is the one to report.
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw error;
    }
  });
}
