import type { Audit } from '../audit/audit.js';
import { freshTokenRequired, sessionTokenRequired } from '../auth/decorators.js';
import { isScope, type Scope, scopesOf } from '../auth/scopes.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { writeTransaction } from '../db/write-transaction.js';
import { errors } from '../errors.js';
import { type Reply, type Req, route } from '../http/route.js';
import { lockAccount } from '../users/repository.js';
import type { AuthUser } from '../users/user.js';
import { countTokens, insertToken, listTokens, revokeToken, type TokenRow } from './repository.js';
import {
  CreateTokenSchema,
  DEFAULT_EXPIRES_IN,
  ListTokensSchema,
  MAX_TOKENS_PER_USER,
  RevokeTokenSchema,
  type TokenView,
} from './schemas.js';
import { generateToken } from './token.js';

/**
 * Personal access tokens, for scripts. Managing them needs a session (a
 * token cannot make or list tokens); creating one needs a fresh login, like
 * any change that grants access.
 */
export class PersonalTokenRoutes {
  constructor(private readonly deps: { db: Db; clock: Clock; audit: Audit }) {}

  @route({ method: 'POST', url: '/me/tokens', schema: CreateTokenSchema })
  @freshTokenRequired
  async create(user: AuthUser, req: Req<typeof CreateTokenSchema>, reply: Reply<typeof CreateTokenSchema>) {
    const { db, clock } = this.deps;
    const scopes = req.body.scopes as Scope[];
    if (!scopes.every((s) => isScope(s) && scopesOf(user.admin).has(s)))
      throw errors.forbidden('Only an admin can grant the admin scope!');
    const now = clock.now();
    const expiresAt = now + (req.body.expires_in ?? DEFAULT_EXPIRES_IN) * 1000;
    const made = generateToken();
    // Counted and created under the account row's lock: parallel requests cannot pass the limit together.
    const row = await writeTransaction(db, async (trx) => {
      await lockAccount(trx, user.id);
      if ((await countTokens(trx, user.id)) >= MAX_TOKENS_PER_USER)
        throw errors.tooManyTokens(MAX_TOKENS_PER_USER);
      return insertToken(trx, {
        publicId: made.publicId,
        userId: user.id,
        name: req.body.name.trim(),
        scopes,
        hash: made.hash,
        prefix: made.prefix,
        now,
        expiresAt,
      });
    });
    await this.deps.audit.bySelf(req, user, {
      type: 'token.created',
      outcome: 'success',
      detail: { token: made.publicId, name: row.name, scopes },
    });
    return reply
      .code(201)
      .header('cache-control', 'no-store')
      .send({ ...toView(row, now), token: made.token });
  }

  @route({ method: 'GET', url: '/me/tokens', schema: ListTokensSchema })
  @sessionTokenRequired
  async list(user: AuthUser) {
    const now = this.deps.clock.now();
    return { tokens: (await listTokens(this.deps.db, user.id)).map((row) => toView(row, now)) };
  }

  @route({ method: 'DELETE', url: '/me/tokens/:id', schema: RevokeTokenSchema })
  @sessionTokenRequired
  async revoke(user: AuthUser, req: Req<typeof RevokeTokenSchema>) {
    const row = await revokeToken(this.deps.db, user.id, req.params.id, this.deps.clock.now());
    if (!row) throw errors.tokenNotFound();
    await this.deps.audit.bySelf(req, user, {
      type: 'token.revoked',
      outcome: 'success',
      detail: { token: row.public_id, name: row.name },
    });
    return { message: 'Token revoked' };
  }
}

function toView(row: TokenRow, now: number): TokenView {
  const expiresAt = Number(row.expires_at);
  return {
    id: row.public_id,
    name: row.name,
    scopes: row.scopes.split(' ').filter(isScope),
    prefix: row.prefix,
    created_at: new Date(Number(row.created_at)).toISOString(),
    last_used_at: row.last_used_at === null ? null : new Date(Number(row.last_used_at)).toISOString(),
    expires_at: new Date(expiresAt).toISOString(),
    expired: expiresAt <= now,
  };
}
