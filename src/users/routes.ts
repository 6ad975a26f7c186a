import { isCommonPassword } from '../auth/common-passwords.js';
import { freshTokenRequired, tokenRequired } from '../auth/decorators.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { errors } from '../errors.js';
import { type Req, route } from '../http/route.js';
import { revokeUserSessions } from '../sessions/repository.js';
import type { Throttle } from '../throttle/throttle.js';
import { keepOneAdmin } from './last-admin.js';
import {
  deleteUser,
  findCredentialsById,
  findUser,
  type UserRecord,
  updatePasswordHash,
} from './repository.js';
import { ChangePasswordSchema, DeleteMeSchema, MeSchema } from './schemas.js';
import type { AuthUser } from './user.js';

export class MeRoutes {
  constructor(private readonly deps: { db: Db; clock: Clock; throttle: Throttle }) {}

  @route({ method: 'GET', url: '/me', schema: MeSchema })
  @tokenRequired
  async me(user: AuthUser) {
    const record = await findUser(this.deps.db, { id: user.id });
    if (!record) throw errors.userNotFound();
    return toUser(record);
  }

  @route({ method: 'PUT', url: '/me/password', schema: ChangePasswordSchema })
  @freshTokenRequired
  async changePassword(user: AuthUser, req: Req<typeof ChangePasswordSchema>) {
    await this.checkPassword(user, req.body.current_password, req.ip);
    if (isCommonPassword(req.body.new_password)) throw errors.passwordTooCommon();
    const passwordHash = await hashPassword(req.body.new_password);
    // Whoever else holds a session may have learned the old password: end theirs, keep this one.
    // One transaction, so a failure between the two never leaves a new password with old sessions.
    const ended = await this.deps.db.transaction().execute(async (trx) => {
      await updatePasswordHash(trx, user.id, passwordHash);
      return revokeUserSessions(trx, user.id, this.deps.clock.now(), user.sessionId);
    });
    req.log.info(
      { event: 'password.changed', user: user.publicId, sessionsEnded: ended },
      'password changed',
    );
    return { message: 'Password changed' };
  }

  @route({ method: 'DELETE', url: '/me', schema: DeleteMeSchema })
  @freshTokenRequired
  async deleteMe(user: AuthUser, req: Req<typeof DeleteMeSchema>) {
    await this.checkPassword(user, req.body.password, req.ip);
    await this.deps.db.transaction().execute(async (trx) => {
      if (user.admin) await keepOneAdmin(trx, user.id);
      await deleteUser(trx, user.id);
    });
    req.log.info({ event: 'account.deleted', user: user.publicId }, 'account deleted');
    return { message: 'Account deleted' };
  }

  /** The same throttle as login: a stolen fresh token must not become a password oracle. */
  private async checkPassword(user: AuthUser, password: string, ip: string): Promise<void> {
    const attempt = await this.deps.throttle.beginLogin(user.username, ip);
    const credentials = await findCredentialsById(this.deps.db, user.id);
    if (!credentials || !(await verifyPassword(credentials.passwordHash, password)))
      throw errors.wrongPassword();
    await attempt.succeeded();
  }
}

export function toUser(record: UserRecord) {
  return {
    public_id: record.publicId,
    username: record.username,
    admin: record.admin,
    created_at: record.createdAt,
  };
}
