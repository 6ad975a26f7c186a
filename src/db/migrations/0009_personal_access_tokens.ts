// biome-ignore-all lint/suspicious/noExplicitAny: migrations run against the schema as it was then, not today's types
import { type Kysely, sql } from 'kysely';
import { idColumn, isPostgres } from '../dialect.js';

/**
 * Personal access tokens: only a SHA-256 of each is stored. A revocation,
 * an expiry change or a deletion (an owner deleted: cascade) moves the 'auth'
 * data version (migration 0007) in the same transaction, so every server's
 * cached answer for the token is dropped before its next request; creating
 * one, and recording when it was last used, do not.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = isPostgres(db);
  await db.schema
    .createTable('personal_access_tokens')
    .addColumn('id', pg ? 'bigint' : 'integer', idColumn(db))
    .addColumn('public_id', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', pg ? 'bigint' : 'integer', (c) =>
      c.notNull().references('users.id').onDelete('cascade'),
    )
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('expires_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('personal_access_tokens_user_id')
    .on('personal_access_tokens')
    .column('user_id')
    .execute();

  const events = ['update of user_id, token_hash, scopes, expires_at, revoked_at', 'delete'];
  if (pg) {
    // bump_data_version() comes from migration 0007.
    await sql
      .raw(
        `create constraint trigger personal_access_tokens_data_version after ${events.join(' or ')}
           on personal_access_tokens deferrable initially deferred
           for each row execute function bump_data_version('auth')`,
      )
      .execute(db);
    return;
  }
  for (const event of events) {
    await sql
      .raw(
        `create trigger personal_access_tokens_${event.split(' ')[0]}_data_version after ${event}
           on personal_access_tokens begin
             update data_versions set version = lower(hex(randomblob(8))) where name = 'auth';
           end`,
      )
      .execute(db);
  }
}

/** Reverting drops every personal access token: `bookapi migrate down` asks first. */
export const dropsUserData = true;

export async function down(db: Kysely<any>): Promise<void> {
  // The table's triggers go with it.
  await db.schema.dropTable('personal_access_tokens').execute();
}
