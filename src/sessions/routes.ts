import type { Audit } from '../audit/audit.js';
import { adminRequired, freshTokenRequired, sessionTokenRequired } from '../auth/decorators.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { errors } from '../errors.js';
import { clientOf } from '../http/client.js';
import { type Req, route } from '../http/route.js';
import { findUser } from '../users/repository.js';
import type { AdminUser, AuthUser } from '../users/user.js';
import {
  listLiveSessions,
  revokeSessionByPublicId,
  revokeUserSessions,
  type SessionView,
} from './repository.js';
import {
  type Device,
  EndMySessionSchema,
  EndUserSessionsSchema,
  ListMySessionsSchema,
  ListUserSessionsSchema,
} from './schemas.js';

export interface DeviceDeps {
  db: Db;
  clock: Clock;
  audit: Audit;
  /** Seconds without a refresh after which a session can no longer be refreshed (REFRESH_IDLE_TTL). */
  refreshIdleTtl: number;
}

/**
 * Sessions as devices: each password login is one, until it is logged out,
 * ended here, expires or sits idle past REFRESH_IDLE_TTL. Session-only (a
 * personal access token can neither list nor end sessions).
 */
export class DeviceRoutes {
  constructor(private readonly deps: DeviceDeps) {}

  @route({ method: 'GET', url: '/me/sessions', schema: ListMySessionsSchema })
  @sessionTokenRequired
  async list(user: AuthUser) {
    return { sessions: (await this.live(user.id)).map((s) => toDevice(s, user.sessionId)) };
  }

  @route({ method: 'DELETE', url: '/me/sessions/:id', schema: EndMySessionSchema })
  @sessionTokenRequired
  async end(user: AuthUser, req: Req<typeof EndMySessionSchema>) {
    // Another user's session id finds nothing here: the same 404 as one that never existed.
    const ended = await revokeSessionByPublicId(this.deps.db, user.id, req.params.id, this.deps.clock.now());
    if (ended === undefined) throw errors.sessionNotFound();
    await this.deps.audit.bySelf(req, user, {
      type: 'session.ended',
      outcome: 'success',
      session: req.params.id,
      detail: { current: ended === user.sessionId },
    });
    return { message: 'Session ended' };
  }

  @route({ method: 'GET', url: '/admin/users/:public_id/sessions', schema: ListUserSessionsSchema })
  @freshTokenRequired
  @adminRequired
  async listOfUser(admin: AdminUser, req: Req<typeof ListUserSessionsSchema>) {
    const target = await findUser(this.deps.db, { publicId: req.params.public_id });
    if (!target) throw errors.userNotFound();
    return { sessions: (await this.live(target.id)).map((s) => toDevice(s, admin.sessionId)) };
  }

  @route({ method: 'DELETE', url: '/admin/users/:public_id/sessions', schema: EndUserSessionsSchema })
  @freshTokenRequired
  @adminRequired
  async endAllOfUser(admin: AdminUser, req: Req<typeof EndUserSessionsSchema>) {
    const target = await findUser(this.deps.db, { publicId: req.params.public_id });
    if (!target) throw errors.userNotFound();
    const ended = await revokeUserSessions(this.deps.db, target.id, this.deps.clock.now());
    await this.deps.audit.record(req.log, {
      type: 'sessions.ended',
      outcome: 'success',
      actor: admin.publicId,
      subject: target.publicId,
      client: clientOf(req),
      detail: { sessions_ended: ended },
    });
    return { message: 'Sessions ended', ended };
  }

  private live(userId: number): Promise<SessionView[]> {
    return listLiveSessions(this.deps.db, userId, this.deps.clock.now(), this.deps.refreshIdleTtl * 1000);
  }
}

function toDevice(s: SessionView, current: string | null): Device {
  return {
    id: s.publicId,
    created_at: new Date(s.createdAt).toISOString(),
    last_used_at: new Date(s.lastUsedAt).toISOString(),
    user_agent: s.userAgent,
    ip: s.ip,
    current: s.id === current,
  };
}
