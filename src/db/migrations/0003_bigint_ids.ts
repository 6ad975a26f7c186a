// biome-ignore-all lint/suspicious/noExplicitAny: migrations run against the schema as it was then, not today's types
import type { Kysely } from 'kysely';
import { isPostgres } from '../dialect.js';

/**
 * Ids and the columns that point at them become 64-bit on PostgreSQL, where
 * `integer` stops at 2^31 - 1: an id the API accepts (up to 15 digits) must
 * find nothing rather than overflow the column. The identity sequences follow
 * their columns' type. SQLite's INTEGER is 64-bit already, so there this does
 * nothing. On PostgreSQL each table is rewritten under an exclusive lock.
 */
const COLUMNS: Record<string, string[]> = {
  users: ['id'],
  books: ['id', 'owner_id'],
  sessions: ['user_id'],
};

export async function up(db: Kysely<any>): Promise<void> {
  await setType(db, 'bigint');
}

/** Fails if an id already exceeds 2^31 - 1, which is the point of `up`. */
export async function down(db: Kysely<any>): Promise<void> {
  await setType(db, 'integer');
}

async function setType(db: Kysely<any>, type: 'bigint' | 'integer'): Promise<void> {
  if (!isPostgres(db)) return;
  for (const [table, columns] of Object.entries(COLUMNS)) {
    const [first, ...rest] = columns as [string, ...string[]];
    let alter = db.schema.alterTable(table).alterColumn(first, (c) => c.setDataType(type));
    for (const column of rest) alter = alter.alterColumn(column, (c) => c.setDataType(type));
    await alter.execute();
  }
}
