import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
import type { Database } from './schema.js';
import { openSqlite } from './sqlite.js';

export type Db = Kysely<Database>;

/** PostgreSQL's int8 (our epoch-millisecond times, counts) as a JS number: safe below 2^53. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface DatabaseOptions {
  /** PostgreSQL connections per process. */
  poolSize?: number;
  /** Told about connections the pool lost while idle (the database restarted, say). */
  onPoolError?: (error: Error) => void;
}

export function createDatabase(config: DatabaseConfig, options: DatabaseOptions = {}): Db {
  if (config.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: config.url,
      max: options.poolSize ?? 10,
      types,
      // Fail fast while the database is down, so requests get a 503 instead of hanging.
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
    });
    // Without listeners, a connection dropped by the server (restart, network cut) would
    // crash the process: the pool reports idle clients, each client its own errors while
    // checked out. The pool then discards the broken client and opens a new one.
    pool.on('error', (error) => options.onPoolError?.(error));
    pool.on('connect', (client) => client.on('error', (error) => options.onPoolError?.(error)));
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  return new Kysely<Database>({ dialect: openSqlite(config.file).dialect });
}

/** True when the database answers a trivial query. */
export async function ping(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
