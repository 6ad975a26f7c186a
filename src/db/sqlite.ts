import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { type SqliteDatabase, SqliteDialect, type SqliteStatement } from 'kysely';

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

export function openSqlite(file: string): { dialect: SqliteDialect; raw: SQLite.Database } {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const raw = new SQLite(file);
  // WAL lets readers run during a write and survives a killed process;
  // synchronous=NORMAL is the documented safe pairing with WAL.
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('busy_timeout = 5000');
  raw.pragma('foreign_keys = ON');
  return { dialect: new SqliteDialect({ database: withStatementCache(raw) }), raw };
}
