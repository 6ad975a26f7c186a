// biome-ignore-all lint/suspicious/noExplicitAny: migrations run against the schema as it was then, not today's types
import { type Kysely, sql } from 'kysely';

/**
 * At most one unspent refresh token per session, enforced by the database.
 * Earlier versions could give a replayed token a fresh successor each time,
 * so a session may hold several live chains: such sessions end here (their
 * users log in again), since nothing tells the owner's chain from a thief's.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const now = Date.now();
  const forked = db
    .selectFrom('refresh_tokens')
    .select('session_id')
    .where('used_at', 'is', null)
    .groupBy('session_id')
    .having((eb) => eb.fn.countAll(), '>', 1);
  await db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('revoked_at', 'is', null)
    .where('id', 'in', forked)
    .execute();
  await db
    .updateTable('refresh_tokens')
    .set({ used_at: now })
    .where('used_at', 'is', null)
    .where('session_id', 'in', forked)
    .execute();
  await db.schema
    .createIndex('refresh_tokens_one_live')
    .on('refresh_tokens')
    .column('session_id')
    .unique()
    .where(sql.ref('used_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('refresh_tokens_one_live').execute();
}
