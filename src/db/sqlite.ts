import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { type SqliteDatabase, SqliteDialect, type SqliteStatement } from 'kysely';
import { ConfigError } from '../config.js';

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's SQLite driver calls `prepare` for every query; preparing costs
 * more than running the small queries on our hot path. This wrapper keeps
 * the most recently used statements. Reuse is safe because Kysely runs one
 * query at a time on its single SQLite connection.
 */
export function withStatementCache(db: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => db.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (statement) {
        // Re-insert so the Map's order is least-recently-used first.
        cache.delete(sql);
      } else {
        statement = db.prepare(sql) as unknown as SqliteStatement;
        if (cache.size >= STATEMENT_CACHE_SIZE) {
          const oldest = cache.keys().next().value;
          if (oldest !== undefined) cache.delete(oldest);
        }
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}

/**
 * busyTimeoutMs: how long a statement waits for another connection's write
 * lock before SQLITE_BUSY (a 503). better-sqlite3 waits synchronously, so the
 * process serves nothing else meanwhile.
 */
export function openSqlite(
  file: string,
  busyTimeoutMs = 5000,
): { dialect: SqliteDialect; raw: SQLite.Database } {
  let raw: SQLite.Database;
  try {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    raw = new SQLite(file);
  } catch (error) {
    // better-sqlite3 says "unable to open database file" without naming it.
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(
      `cannot open the SQLite database ${file} (${reason}): check DATABASE_URL and that this user may write to ${path.dirname(file)}`,
    );
  }
  // WAL lets readers run during a write and survives a killed process;
  // synchronous=NORMAL is the documented safe pairing with WAL.
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma(`busy_timeout = ${Math.round(busyTimeoutMs)}`);
  raw.pragma('foreign_keys = ON');
  return { dialect: new SqliteDialect({ database: withStatementCache(raw) }), raw };
}
