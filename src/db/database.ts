import { createRequire } from 'node:module';
import type SQLite from 'better-sqlite3';
import {
  Kysely,
  type LogEvent,
  type PostgresCursor,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
  sql,
} from 'kysely';
import type pg from 'pg';
import type { DatabaseConfig } from '../config.js';
import { QUERY_TIMEOUT_MESSAGE } from './errors.js';
import type { Database } from './schema.js';
import { openSqlite } from './sqlite.js';

export type Db = Kysely<Database>;

/** The driver under a Db, for the few hot statements that skip the query builder (src/db/read-side.ts). */
export type RawDatabase =
  | { kind: 'sqlite'; connection: SQLite.Database }
  | { kind: 'postgres'; pool: pg.Pool };

const raw = new WeakMap<Db, RawDatabase>();

/** Told of each query-builder query once it ends (Kysely's log event: the query, its duration, any error). */
export type QueryListener = (event: LogEvent) => void;

const queryListeners = new WeakMap<Db, { listener?: QueryListener }>();

/**
 * Sends every query-builder query of a Db made by createDatabase to `listener`
 * (the metrics' query durations); undefined stops it. The hot path's direct
 * statements (hot-path.ts) are not seen.
 */
export function observeQueries(db: Db, listener: QueryListener | undefined): void {
  const slot = queryListeners.get(db);
  if (slot) slot.listener = listener;
}

/** The driver a Db made by createDatabase runs on; undefined for any other Db. */
export function rawDatabase(db: Db): RawDatabase | undefined {
  return raw.get(db);
}

// pg is loaded only when a PostgreSQL database is opened: a SQLite server never pays for it.
const require = createRequire(import.meta.url);
let loadedPg: typeof pg | undefined;
function loadPg(): typeof pg {
  loadedPg ??= require('pg') as typeof pg;
  return loadedPg;
}

/** PostgreSQL's int8 (ids, epoch-millisecond times, counts) as a JS number: safe below 2^53. */
const INT8_OID = 20;
function pgTypes(pgModule: typeof pg) {
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID
        ? (value: string) => Number(value)
        : pgModule.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
  };
}

export interface DatabaseOptions {
  /** PostgreSQL connections per process. */
  poolSize?: number;
  /**
   * Milliseconds a query may wait for a connection, and for its answer, before
   * it fails (then a 503). Unset: no limit on queries, for migrations, which
   * may rewrite large tables.
   */
  queryTimeout?: number;
  /** Told about connections the pool lost while idle (the database restarted, say). */
  onPoolError?: (error: Error) => void;
}

/** Without a query timeout, how long to wait for a connection while the database is down. */
const CONNECT_TIMEOUT = 3000;

export function createDatabase(config: DatabaseConfig, options: DatabaseOptions = {}): Db {
  if (config.kind === 'postgres') {
    const timeout = options.queryTimeout;
    const pgModule = loadPg();
    const pool = new pgModule.Pool({
      connectionString: config.url,
      max: options.poolSize ?? 10,
      types: pgTypes(pgModule),
      // Fail fast while the database is down, so requests get a 503 instead of hanging.
      connectionTimeoutMillis: timeout ?? CONNECT_TIMEOUT,
      idleTimeoutMillis: 30_000,
      ...(timeout === undefined ? {} : timeouts(timeout)),
    });
    // Without listeners, a connection dropped by the server (restart, network cut) would
    // crash the process: the pool reports idle clients, each client its own errors while
    // checked out. The pool then discards the broken client and opens a new one.
    pool.on('error', (error) => options.onPoolError?.(error));
    pool.on('connect', (client) => client.on('error', (error) => options.onPoolError?.(error)));
    const slot = {};
    const db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: timeout === undefined ? pool : discardingTimedOut(pool) }),
      log: forwardTo(slot),
    });
    raw.set(db, { kind: 'postgres', pool });
    queryListeners.set(db, slot);
    return db;
  }
  const sqlite = openSqlite(config.file, options.queryTimeout);
  const slot = {};
  const db = new Kysely<Database>({ dialect: sqlite.dialect, log: forwardTo(slot) });
  raw.set(db, { kind: 'sqlite', connection: sqlite.raw });
  queryListeners.set(db, slot);
  return db;
}

/**
 * Kysely decides when it is built whether it times queries, before anyone
 * may want the durations, so it always times them and this passes them on
 * (~1 µs a query-builder query; the hot path's direct statements skip it).
 */
function forwardTo(slot: { listener?: QueryListener }) {
  return (event: LogEvent) => slot.listener?.(event);
}

/**
 * Two bounds on every query. The server cancels a statement that runs too
 * long (slow plan, lock wait) and the connection stays usable; it fires a
 * little before the client's own timer, which is the one that still fires
 * when the server or the network has frozen and nothing comes back at all.
 * A transaction left idle (its client gone mid-way) releases its locks too.
 */
function timeouts(ms: number) {
  return {
    statement_timeout: Math.round(ms * 0.9),
    query_timeout: ms,
    idle_in_transaction_session_timeout: 2 * ms,
  };
}

/**
 * After pg's client-side query timeout the query is still in flight on its
 * connection: returned to the pool, that connection would make the next
 * query wait behind one that may never finish. So a connection whose query
 * timed out refuses further queries (a transaction's rollback fails at once,
 * not after a second timeout) and is closed instead of reused.
 */
function discardingTimedOut(pool: PostgresPool): PostgresPool {
  return {
    connect: async () => new DiscardOnTimeout(await pool.connect()),
    end: () => pool.end(),
  };
}

class DiscardOnTimeout implements PostgresPoolClient {
  #timedOut = false;

  constructor(private readonly client: PostgresPoolClient) {}

  query<R>(sql: string, parameters: readonly unknown[]): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    sql: string | PostgresCursor<R>,
    parameters: readonly unknown[] = [],
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    return typeof sql === 'string' ? this.run<R>(sql, parameters) : this.client.query(sql);
  }

  release(destroy?: boolean): void {
    this.client.release(destroy === true || this.#timedOut);
  }

  private async run<R>(sql: string, parameters: readonly unknown[]): Promise<PostgresQueryResult<R>> {
    if (this.#timedOut) throw new Error(`${QUERY_TIMEOUT_MESSAGE}: the connection is being closed`);
    try {
      return await this.client.query<R>(sql, parameters);
    } catch (error) {
      if ((error as Error).message === QUERY_TIMEOUT_MESSAGE) this.#timedOut = true;
      throw error;
    }
  }
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
