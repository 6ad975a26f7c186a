// biome-ignore-all lint/suspicious/noExplicitAny: migrations run against the schema as it was then, not today's types
import type { Kysely } from 'kysely';

/**
 * Login and signup throttling counters, so the limits hold across workers and
 * instances on one database and survive a restart. Keys are short hashes,
 * never a username or an address; reset_at (epoch ms) is indexed for pruning.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('throttle_counters')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('hits', 'integer', (c) => c.notNull())
    .addColumn('reset_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('throttle_counters_reset_at')
    .on('throttle_counters')
    .column('reset_at')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('throttle_counters').execute();
}
