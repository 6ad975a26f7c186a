import SQLite from 'better-sqlite3';
import type pg from 'pg';
import { type Db, rawDatabase } from './database.js';

/**
 * The versions of the cached data, as committed when they were read (see
 * migration 0007: a trigger gives a row a new value in the same transaction
 * as any change that could alter a cached answer).
 */
export interface Versions {
  readonly auth: string;
  readonly books: string;
}

export type MaybePromise<T> = T | Promise<T>;

/**
 * The hot path's statements, straight on the driver: prepared statements
 * without the query builder, and the version rows that tell whether something
 * cached is still current. Reads see committed data only, never a
 * transaction in progress on the query builder's connection; writes commit
 * on their own, never inside someone else's transaction.
 *
 * Each method returns undefined when it cannot run that way at this moment
 * (SQLite whose query builder connection is inside a transaction): the
 * caller then goes through the query builder, uncached.
 */
export interface HotPath {
  /**
   * The versions committed by the time of this call. The caller reads them
   * before the rows it caches, so rows filed under a version are never older
   * than it. On PostgreSQL a read already sent is never shared with a caller
   * that arrives after it was sent.
   */
  versions(): MaybePromise<Versions> | undefined;
  /** A hot query (placeholders `?`): its rows as plain objects. */
  read<R>(sql: string, params: readonly unknown[]): MaybePromise<R[]> | undefined;
  /** A hot single-statement write, committed by itself: the rows it returns, if any. */
  write<R>(sql: string, params: readonly unknown[]): MaybePromise<R[]> | undefined;
  close(): Promise<void>;
}

const VERSIONS_SQL =
  "select (select version from data_versions where name = 'auth') as auth, " +
  "(select version from data_versions where name = 'books') as books";

/** The hot path of a Db made by createDatabase, or undefined for any other. */
export function openHotPath(db: Db): HotPath | undefined {
  const driver = rawDatabase(db);
  if (driver?.kind === 'postgres') return new PostgresHotPath(driver.pool);
  if (driver?.kind === 'sqlite')
    return driver.connection.memory
      ? new MemoryHotPath(driver.connection)
      : new SqliteHotPath(driver.connection);
  return undefined;
}

/** Prepared statements of one connection, by SQL text; the hot path has a handful. */
class Statements {
  private readonly cache = new Map<string, SQLite.Statement>();
  constructor(private readonly connection: SQLite.Database) {}
  run<R>(sql: string, params: readonly unknown[]): R[] {
    let statement = this.cache.get(sql);
    if (statement === undefined) {
      statement = this.connection.prepare(sql);
      this.cache.set(sql, statement);
    }
    if (statement.reader) return statement.all(...params) as R[];
    statement.run(...params);
    return [];
  }
}

/**
 * A SQLite file: reads on a read-only connection of its own, so they never
 * see the query builder's open transactions, only what is committed. `PRAGMA
 * data_version` (2 µs) changes when another connection commits — and every
 * write is another connection's, this process's included — so the version
 * rows are read again only after some commit. Everything here is
 * synchronous: each read is made when it is asked for, after the request
 * that asks has arrived. Writes go to the query builder's connection, and
 * only between its transactions.
 */
class SqliteHotPath implements HotPath {
  private readonly reader: SQLite.Database;
  private readonly reads: Statements;
  private readonly writes: Statements;
  private readonly dataVersion: SQLite.Statement;
  private readonly readVersions: SQLite.Statement;
  private readonly readVersionsOnWriter: SQLite.Statement;
  private seen = -1;
  private current: Versions | undefined;

  constructor(private readonly writer: SQLite.Database) {
    this.reader = new SQLite(writer.name, { readonly: true, fileMustExist: true });
    this.reader.pragma('busy_timeout = 5000');
    this.reads = new Statements(this.reader);
    this.writes = new Statements(writer);
    this.dataVersion = this.reader.prepare('pragma data_version').pluck();
    this.readVersions = this.reader.prepare(VERSIONS_SQL);
    this.readVersionsOnWriter = writer.prepare(VERSIONS_SQL);
  }

  versions(): Versions {
    const dataVersion = this.dataVersion.get() as number;
    if (dataVersion !== this.seen || this.current === undefined) {
      // Read after data_version: a commit after this read changes data_version again. Between
      // its transactions the writer reads the same committed rows, from pages it has just
      // written itself (after this process's own writes the reader would read them afresh).
      this.current = (
        this.writer.inTransaction ? this.readVersions.get() : this.readVersionsOnWriter.get()
      ) as Versions;
      this.seen = dataVersion;
    }
    return this.current;
  }

  read<R>(sql: string, params: readonly unknown[]): R[] {
    return this.reads.run<R>(sql, params);
  }

  write<R>(sql: string, params: readonly unknown[]): R[] | undefined {
    return this.writer.inTransaction ? undefined : this.writes.run<R>(sql, params);
  }

  async close(): Promise<void> {
    this.reader.close();
  }
}

/**
 * An in-memory SQLite database exists on one connection only, the query
 * builder's. Using it directly is safe between transactions, and only
 * then: inside one a read would see writes that may yet be rolled back, and
 * a write would join that transaction.
 */
class MemoryHotPath implements HotPath {
  private readonly statements: Statements;
  private readonly readVersions: SQLite.Statement;

  constructor(private readonly connection: SQLite.Database) {
    this.statements = new Statements(connection);
    this.readVersions = connection.prepare(VERSIONS_SQL);
  }

  versions(): Versions | undefined {
    if (this.connection.inTransaction) return undefined;
    return this.readVersions.get() as Versions;
  }

  read<R>(sql: string, params: readonly unknown[]): R[] | undefined {
    return this.connection.inTransaction ? undefined : this.statements.run<R>(sql, params);
  }

  write<R>(sql: string, params: readonly unknown[]): R[] | undefined {
    return this.read<R>(sql, params);
  }

  async close(): Promise<void> {}
}

/**
 * PostgreSQL: named prepared statements on the pool (each connection plans a
 * statement once), and one version read shared by every request that
 * arrived before it was sent (see SharedRead).
 */
class PostgresHotPath implements HotPath {
  private readonly names = new Map<string, { name: string; text: string }>();
  private readonly shared: SharedRead<Versions>;

  constructor(private readonly pool: pg.Pool) {
    this.shared = new SharedRead(
      async () => (await this.pool.query<Versions>(this.named(VERSIONS_SQL))).rows[0] as Versions,
    );
  }

  versions(): Promise<Versions> {
    return this.shared.next();
  }

  async read<R>(sql: string, params: readonly unknown[]): Promise<R[]> {
    const { name, text } = this.named(sql);
    return (await this.pool.query({ name, text, values: [...params] })).rows as R[];
  }

  write<R>(sql: string, params: readonly unknown[]): Promise<R[]> {
    return this.read<R>(sql, params);
  }

  private named(sql: string): { name: string; text: string } {
    let statement = this.names.get(sql);
    if (statement === undefined) {
      let n = 0;
      statement = { name: `bookapi_hot_${this.names.size + 1}`, text: sql.replace(/\?/g, () => `$${++n}`) };
      this.names.set(sql, statement);
    }
    return statement;
  }

  /** The pool is the query builder's: it closes it. */
  async close(): Promise<void> {}
}

/**
 * One read shared by the callers that arrived before it was sent — never
 * one already sent, which may predate a commit the caller has seen (its
 * client was told "logged out", then sent this request). Callers gather
 * until the event loop has taken in the requests that arrived with them,
 * then one read is sent for all of them; the next caller starts the next
 * gathering. At most `maxInFlight` reads are out at once (each holds a pool
 * connection); a gathering that finds them all out waits for one to return,
 * and keeps gathering meanwhile.
 */
export class SharedRead<T> {
  private gathering: Promise<T> | undefined;
  private inFlight = 0;
  private readonly returned: (() => void)[] = [];

  constructor(
    private readonly read: () => Promise<T>,
    private readonly maxInFlight = 2,
  ) {}

  next(): Promise<T> {
    this.gathering ??= this.gather();
    return this.gathering;
  }

  private async gather(): Promise<T> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.inFlight >= this.maxInFlight)
      await new Promise<void>((resolve) => this.returned.push(resolve));
    // Closed and sent in one step: every caller of this gathering arrived before the read was sent.
    this.gathering = undefined;
    this.inFlight++;
    try {
      return await this.read();
    } finally {
      this.inFlight--;
      this.returned.shift()?.();
    }
  }
}
