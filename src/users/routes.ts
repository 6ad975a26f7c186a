import type { Audit } from '../audit/audit.js';
import { isCommonPassword } from '../auth/common-passwords.js';
import { freshTokenRequired, scope, tokenRequired } from '../auth/decorators.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { writeTransaction } from '../db/write-transaction.js';
import { errors } from '../errors.js';
import { type Req, route } from '../http/route.js';
import { revokeUserTokens } from '../personal-tokens/repository.js';
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
import { type AuthUser, sessionOf } from './user.js';

export class MeRoutes {
  constructor(private readonly deps: { db: Db; clock: Clock; throttle: Throttle; audit: Audit }) {}

  @route({ method: 'GET', url: '/me', schema: MeSchema })
  @scope('account:read')
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
    // Whoever else holds a session may have learned the old password: end theirs, keep this one,
    // and revoke the personal access tokens (whoever knew the password could have made one).
    // One transaction, so a failure part-way never leaves a new password with old credentials.
    const { ended, revoked } = await writeTransaction(this.deps.db, async (trx) => {
      const now = this.deps.clock.now();
      await updatePasswordHash(trx, user.id, passwordHash);
      return {
        ended: await revokeUserSessions(trx, user.id, now, sessionOf(user)),
        revoked: await revokeUserTokens(trx, user.id, now),
      };
    });
    await this.deps.audit.bySelf(req, user, {
      type: 'password.changed',
      outcome: 'success',
      detail: { sessions_ended: ended, tokens_revoked: revoked },
    });
    return { message: 'Password changed' };
  }

  @route({ method: 'DELETE', url: '/me', schema: DeleteMeSchema })
  @freshTokenRequired
  async deleteMe(user: AuthUser, req: Req<typeof DeleteMeSchema>) {
    await this.checkPassword(user, req.body.password, req.ip);
    await writeTransaction(this.deps.db, async (trx) => {
      if (user.admin) await keepOneAdmin(trx, user.id);
      await deleteUser(trx, user.id);
    });
    await this.deps.audit.bySelf(req, user, {
      type: 'account.deleted',
      outcome: 'success',
    });
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
