import { adminRequired, scope, tokenRequired } from '../auth/decorators.js';
import type { Db } from '../db/database.js';
import { errors } from '../errors.js';
import { type Reply, type Req, route } from '../http/route.js';
import type { AdminUser, AuthUser } from '../users/user.js';
import type { AuditType } from './events.js';
import { type AuditRow, listEvents } from './repository.js';
import { type ActivityEvent, ActivitySchema, type AuditEntry, AuditSchema } from './schemas.js';

export class AuditRoutes {
  constructor(private readonly deps: { db: Db }) {}

  @route({ method: 'GET', url: '/me/activity', schema: ActivitySchema })
  @scope('account:read')
  @tokenRequired
  async activity(user: AuthUser, req: Req<typeof ActivitySchema>, reply: Reply<typeof ActivitySchema>) {
    const limit = Number(req.query.limit);
    const rows = await listEvents(this.deps.db, {
      subject: user.publicId,
      before: cursor(req.query.after),
      limit,
    });
    link(reply, '/me/activity', limit, rows, {});
    return { events: rows.map((row) => toActivity(row, user.publicId)) };
  }

  @route({ method: 'GET', url: '/admin/audit', schema: AuditSchema })
  @adminRequired
  async audit(_admin: AdminUser, req: Req<typeof AuditSchema>, reply: Reply<typeof AuditSchema>) {
    const { user, type, since } = req.query;
    const limit = Number(req.query.limit);
    const sinceMs = since === undefined ? undefined : Date.parse(since);
    if (sinceMs !== undefined && Number.isNaN(sinceMs))
      throw errors.invalidInput('since must be a date-time');
    const rows = await listEvents(this.deps.db, {
      user,
      type,
      since: sinceMs,
      before: cursor(req.query.after),
      limit,
    });
    link(reply, '/admin/audit', limit, rows, { user, type, since });
    return { events: rows.map(toAuditEntry) };
  }
}

const cursor = (after: string | undefined) => (after === undefined ? undefined : Number(after));

/** The next (older) page, with the same filters. */
function link(
  reply: Reply<typeof ActivitySchema> | Reply<typeof AuditSchema>,
  path: string,
  limit: number,
  rows: AuditRow[],
  filters: Record<string, string | undefined>,
): void {
  const last = rows.at(-1);
  if (rows.length !== limit || last === undefined) return;
  const query = new URLSearchParams({ limit: String(limit), after: String(last.id) });
  for (const [name, value] of Object.entries(filters)) if (value !== undefined) query.set(name, value);
  reply.header('link', `<${path}?${query}>; rel="next"`);
}

function parseDetail(detail: string | null): Record<string, unknown> | null {
  if (detail === null) return null;
  try {
    const parsed: unknown = JSON.parse(detail);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function toActivity(row: AuditRow, self: string): ActivityEvent {
  const byAdmin = row.actor_id !== null && row.actor_id !== self;
  return {
    id: Number(row.id),
    at: new Date(Number(row.at)).toISOString(),
    type: row.type as AuditType,
    outcome: row.outcome,
    by_admin: byAdmin,
    session_id: row.session_id,
    // Where an admin acted, the address and agent are the admin's: not the user's to see.
    ip: byAdmin ? null : row.ip,
    user_agent: byAdmin ? null : row.user_agent,
    detail: parseDetail(row.detail),
  };
}

function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    id: Number(row.id),
    at: new Date(Number(row.at)).toISOString(),
    type: row.type as AuditType,
    outcome: row.outcome,
    actor_id: row.actor_id,
    subject_id: row.subject_id,
    username: row.username,
    session_id: row.session_id,
    ip: row.ip,
    user_agent: row.user_agent,
    detail: parseDetail(row.detail),
  };
}
