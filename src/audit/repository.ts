import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import type { AuditEventsTable } from '../db/schema.js';

export type AuditRow = Selectable<AuditEventsTable>;

export async function insertEvent(db: Db, row: Insertable<AuditEventsTable>): Promise<void> {
  await db.insertInto('audit_events').values(row).execute();
}

export interface AuditFilter {
  /** Events about this user, or by them (admins' view); a user's own view passes `subject`. */
  user?: string;
  subject?: string;
  type?: string;
  /** Epoch ms: events at or after. */
  since?: number;
  /** Keyset cursor: events older than this id (newest first). */
  before?: number;
  limit: number;
}

/** Newest first, by id (ids grow with time); keyset pagination on id. */
export async function listEvents(db: Db, f: AuditFilter): Promise<AuditRow[]> {
  let query = db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(f.limit);
  if (f.subject !== undefined) query = query.where('subject_id', '=', f.subject);
  if (f.user !== undefined) {
    const user = f.user;
    query = query.where((eb) => eb.or([eb('subject_id', '=', user), eb('actor_id', '=', user)]));
  }
  if (f.type !== undefined) query = query.where('type', '=', f.type);
  if (f.since !== undefined) query = query.where('at', '>=', f.since);
  if (f.before !== undefined) query = query.where('id', '<', f.before);
  return query.execute();
}

/** Deletes up to `batch` events older than `cutoff`; how many went. */
export async function pruneEvents(db: Db, cutoff: number, batch: number): Promise<number> {
  const result = await db
    .deleteFrom('audit_events')
    .where('id', 'in', db.selectFrom('audit_events').select('id').where('at', '<', cutoff).limit(batch))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
