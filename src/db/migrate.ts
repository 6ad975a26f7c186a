// biome-ignore-all lint/suspicious/noExplicitAny: migrations run against the schema as it was then, not today's types
import { type Kysely, type Migration, type MigrationResultSet, Migrator, sql } from 'kysely';
import type { DatabaseConfig } from '../config.js';
import { createDatabase } from './database.js';
import { isPostgres } from './dialect.js';
import * as m0001 from './migrations/0001_users_and_books.js';
import * as m0002 from './migrations/0002_sessions.js';
import * as m0003 from './migrations/0003_bigint_ids.js';
import * as m0004 from './migrations/0004_one_live_refresh_token.js';
import * as m0005 from './migrations/0005_username_identity.js';
import * as m0006 from './migrations/0006_throttle_counters.js';
import * as m0007 from './migrations/0007_data_versions.js';
import * as m0008 from './migrations/0008_devices_and_audit.js';
import * as m0009 from './migrations/0009_personal_access_tokens.js';
import * as m0010 from './migrations/0010_book_search.js';

/**
 * Migrations are imported, not read from a folder, so the same list works
 * from TypeScript sources and from the compiled build. Append new ones here.
 */
const migrations: Record<string, Migration> = {
  '0001_users_and_books': m0001,
  '0002_sessions': m0002,
  '0003_bigint_ids': m0003,
  '0004_one_live_refresh_token': m0004,
  '0005_username_identity': m0005,
  '0006_throttle_counters': m0006,
  '0007_data_versions': m0007,
  '0008_devices_and_audit': m0008,
  '0009_personal_access_tokens': m0009,
  '0010_book_search': m0010,
};

async function migrator(db: Kysely<any>): Promise<Migrator> {
  // Kysely looks for its bookkeeping tables in every schema unless told which
  // one; several deployments (or test runs) sharing a server each have their own.
  const schema = isPostgres(db)
    ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
    : undefined;
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
}

/**
 * Several instances starting at once all migrate: Kysely serialises them with
 * a lock row, but the very first run can race on creating its own tables, so
 * a failed attempt is retried.
 */
export async function migrateToLatest(db: Kysely<any>, attempts = 3): Promise<MigrationResultSet> {
  for (let attempt = 1; ; attempt++) {
    try {
      return check(await (await migrator(db)).migrateToLatest());
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/**
 * The migrations a starting server runs, without the per-query timeout of
 * its requests: one may rewrite a large table. On PostgreSQL they get a pool
 * of their own; SQLite migrates through `db` (an in-memory database exists
 * only on that one connection, and busy_timeout is its only limit anyway).
 */
export async function migrateAtStart(config: DatabaseConfig, db: Kysely<any>): Promise<MigrationResultSet> {
  if (config.kind !== 'postgres') return migrateToLatest(db);
  const untimed = createDatabase(config);
  try {
    return await migrateToLatest(untimed);
  } finally {
    await untimed.destroy();
  }
}

export async function migrateDown(db: Kysely<any>): Promise<MigrationResultSet> {
  return check(await (await migrator(db)).migrateDown());
}

function check(result: MigrationResultSet): MigrationResultSet {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${String(result.error)}`, { cause: result.error });
  }
  return result;
}

export interface MigrationState {
  name: string;
  /** When it was applied; undefined while pending. */
  executedAt: Date | undefined;
}

/** Every migration this version knows, oldest first, with whether it has been applied. */
export async function migrationStatus(db: Kysely<any>): Promise<MigrationState[]> {
  const list = await (await migrator(db)).getMigrations();
  return list.map((m) => ({ name: m.name, executedAt: m.executedAt }));
}

/** Whether reverting this migration deletes what users stored (accounts, books, sessions). */
export function revertDropsUserData(name: string): boolean {
  return (migrations[name] as { dropsUserData?: boolean } | undefined)?.dropsUserData === true;
}
