import type { Audit } from '../audit/audit.js';
import type { AuditType } from '../audit/events.js';
import { adminRequired, freshTokenRequired } from '../auth/decorators.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { writeTransaction } from '../db/write-transaction.js';
import { errors } from '../errors.js';
import { clientOf } from '../http/client.js';
import { type Reply, type Req, route } from '../http/route.js';
import { revokeUserTokens } from '../personal-tokens/repository.js';
import { revokeUserSessions } from '../sessions/repository.js';
import { keepOneAdmin } from '../users/last-admin.js';
import { deleteUser, findUser, listUsers, type UserRecord, updateUserFlags } from '../users/repository.js';
import { toUser } from '../users/routes.js';
import type { AdminUser } from '../users/user.js';
import { DeleteUserSchema, ListUsersSchema, UpdateUserSchema } from './schemas.js';

export class AdminRoutes {
  constructor(private readonly deps: { db: Db; clock: Clock; audit: Audit }) {}

  @route({ method: 'GET', url: '/admin/users', schema: ListUsersSchema })
  @adminRequired
  async list(_admin: AdminUser, req: Req<typeof ListUsersSchema>, reply: Reply<typeof ListUsersSchema>) {
    const limit = Number(req.query.limit);
    const { after } = req.query;
    let afterId = 0;
    if (after !== undefined) {
      const cursor = await findUser(this.deps.db, { publicId: after });
      if (!cursor) throw errors.invalidInput('after must be the public_id of an existing user');
      afterId = cursor.id;
    }
    const { q } = req.query;
    const users = await listUsers(this.deps.db, afterId, limit, q?.trim());
    const path = q?.trim() ? `/admin/users?q=${encodeURIComponent(q.trim())}&` : '/admin/users?';
    const last = users.at(-1);
    if (users.length === limit && last !== undefined)
      reply.header('link', `<${path}limit=${limit}&after=${last.publicId}>; rel="next"`);
    return { Users: users.map(toAdminView) };
  }

  @route({ method: 'PATCH', url: '/admin/users/:public_id', schema: UpdateUserSchema })
  @freshTokenRequired
  @adminRequired
  async update(admin: AdminUser, req: Req<typeof UpdateUserSchema>) {
    const { db, clock } = this.deps;
    const target = await this.find(req.params.public_id);
    const { admin: makeAdmin, disabled } = req.body;
    await writeTransaction(db, async (trx) => {
      const losesAdmin = target.admin && !target.disabled && (makeAdmin === false || disabled === true);
      if (losesAdmin) await keepOneAdmin(trx, target.id);
      await updateUserFlags(trx, target.id, { admin: makeAdmin, disabled });
      // A disabled account's tokens must stop at once, not when they expire, and stay stopped
      // if it is enabled again; a demoted admin's admin tokens must not come back with a promotion.
      if (disabled === true) {
        await revokeUserSessions(trx, target.id, clock.now());
        await revokeUserTokens(trx, target.id, clock.now());
      }
      if (makeAdmin === false && target.admin) await revokeUserTokens(trx, target.id, clock.now(), 'admin');
    });
    // One event per change that changed something: enabling an enabled account records nothing.
    const changes: AuditType[] = [];
    if (makeAdmin !== undefined && makeAdmin !== target.admin)
      changes.push(makeAdmin ? 'account.promoted' : 'account.demoted');
    if (disabled !== undefined && disabled !== target.disabled)
      changes.push(disabled ? 'account.disabled' : 'account.enabled');
    for (const type of changes) {
      await this.deps.audit.record(req.log, {
        type,
        outcome: 'success',
        actor: admin.publicId,
        subject: target.publicId,
        client: clientOf(req),
      });
    }
    return toAdminView({ ...target, ...definedFlags(makeAdmin, disabled) });
  }

  @route({ method: 'DELETE', url: '/admin/users/:public_id', schema: DeleteUserSchema })
  @freshTokenRequired
  @adminRequired
  async remove(admin: AdminUser, req: Req<typeof DeleteUserSchema>) {
    const target = await this.find(req.params.public_id);
    const deleted = await writeTransaction(this.deps.db, async (trx) => {
      if (target.admin && !target.disabled) await keepOneAdmin(trx, target.id);
      return deleteUser(trx, target.id);
    });
    if (!deleted) throw errors.userNotFound();
    await this.deps.audit.record(req.log, {
      type: 'account.deleted',
      outcome: 'success',
      actor: admin.publicId,
      subject: target.publicId,
      client: clientOf(req),
    });
    return { message: 'User deleted' };
  }

  private async find(publicId: string): Promise<UserRecord> {
    const target = await findUser(this.deps.db, { publicId });
    if (!target) throw errors.userNotFound();
    return target;
  }
}

function definedFlags(admin: boolean | undefined, disabled: boolean | undefined) {
  return { ...(admin === undefined ? {} : { admin }), ...(disabled === undefined ? {} : { disabled }) };
}

function toAdminView(record: UserRecord) {
  return { ...toUser(record), disabled: record.disabled };
}
