// biome-ignore-all lint/suspicious/noExplicitAny: migrations run against the schema as it was then, not today's types
import { type Kysely, type Migration, type MigrationResultSet, Migrator, sql } from 'kysely';
import { isPostgres } from './dialect.js';
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
