// biome-ignore-all lint/suspicious/noExplicitAny: migrations run against the schema as it was then, not today's types
import { type Kysely, type Migration, type MigrationResultSet, Migrator } from 'kysely';
import * as m0001 from './migrations/0001_users_and_books.js';
import * as m0002 from './migrations/0002_sessions.js';

/**
 * Migrations are imported, not read from a folder, so the same list works
 * from TypeScript sources and from the compiled build. Append new ones here.
 */
const migrations: Record<string, Migration> = {
  '0001_users_and_books': m0001,
  '0002_sessions': m0002,
};

function migrator(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  return check(await migrator(db).migrateToLatest());
}

export async function migrateDown(db: Kysely<any>): Promise<MigrationResultSet> {
  return check(await migrator(db).migrateDown());
}

function check(result: MigrationResultSet): MigrationResultSet {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${String(result.error)}`, { cause: result.error });
  }
  return result;
}
