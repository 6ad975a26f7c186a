// biome-ignore-all lint/suspicious/noExplicitAny: migrations run against the schema as it was then, not today's types
import { type Kysely, sql } from 'kysely';
import { idColumn, isPostgres } from '../dialect.js';

/**
 * Devices and the audit trail.
 *
 * Sessions get an opaque public id (what GET /me/sessions shows and DELETE
 * /me/sessions/:id takes: the session id itself is inside every access token
 * and stays private to the server), the client's User-Agent and address as at
 * the login or last refresh. Existing sessions get a random public id here.
 *
 * audit_events persists every auth event, never a secret. Users are named by
 * public id as text, not by foreign key: the trail outlives the accounts.
 *
 * job_leases lets one process at a time run a background job (pruning the
 * audit log), whichever instance or worker it is.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = isPostgres(db);
  const random = pg
    ? sql`md5(random()::text || clock_timestamp()::text || id)`
    : sql`lower(hex(randomblob(16)))`;
  await db.schema.alterTable('sessions').addColumn('public_id', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('user_agent', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('ip', 'text').execute();
  // The web client's sessions: a hash of a secret only the client's origin can read (see
  // src/auth/cookie-mode.ts), without which its refresh cookie is refused.
  await db.schema.alterTable('sessions').addColumn('binding', 'text').execute();
  await sql`update sessions set public_id = ${random} where public_id is null`.execute(db);
  await db.schema.createIndex('sessions_public_id').on('sessions').column('public_id').unique().execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', pg ? 'bigint' : 'integer', idColumn(db))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('subject_id', 'text')
    .addColumn('username', 'text')
    .addColumn('session_id', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('detail', 'text')
    .execute();
  // A user's own events, an admin's filters, newest first by id; pruning by time.
  await db.schema
    .createIndex('audit_events_subject')
    .on('audit_events')
    .columns(['subject_id', 'id'])
    .execute();
  await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['actor_id', 'id']).execute();
  await db.schema.createIndex('audit_events_type').on('audit_events').columns(['type', 'id']).execute();
  await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();

  await db.schema
    .createTable('job_leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('until', 'bigint', (c) => c.notNull())
    .execute();
}

/** Reverting drops the audit trail: `bookapi migrate down` asks first. */
export const dropsUserData = true;

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('job_leases').execute();
  await db.schema.dropTable('audit_events').execute();
  await db.schema.dropIndex('sessions_public_id').execute();
  await db.schema.alterTable('sessions').dropColumn('binding').execute();
  await db.schema.alterTable('sessions').dropColumn('ip').execute();
  await db.schema.alterTable('sessions').dropColumn('user_agent').execute();
  await db.schema.alterTable('sessions').dropColumn('public_id').execute();
}
