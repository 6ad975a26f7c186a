import { createHash, createHmac, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Audit } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { writeTransaction } from '../db/write-transaction.js';
import { errors } from '../errors.js';
import type { ClientInfo } from '../http/client.js';
import {
  findRefreshState,
  findRefreshToken,
  insertRefreshToken,
  insertSession,
  lockSessionOf,
  type RefreshRecord,
  revokeSession,
  spendRefreshToken,
  touchSession,
} from '../sessions/repository.js';
import { lockAccount } from '../users/repository.js';
import type { Tokens } from './tokens.js';

export interface TokenPair {
  token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export interface SessionOptions {
  db: Db;
  tokens: Tokens;
  clock: Clock;
  /** Seconds: absolute session lifetime, idle lifetime, grace for concurrent refreshes. */
  refreshTokenTtl: number;
  refreshIdleTtl: number;
  refreshReuseGrace: number;
  /**
   * The resolved JWT_SECRET, from which the successor key is derived: every
   * instance sharing the database must share it (see README).
   */
  secret: string;
  audit: Audit;
}

/** A new session's tokens, and its public id for the audit trail. */
export interface Started {
  pair: TokenPair;
  sessionPublicId: string;
}

type Outcome =
  | { kind: 'invalid' }
  | { kind: 'rotated' | 'retry'; record: RefreshRecord }
  | { kind: 'reused'; record: RefreshRecord; reason: ReuseReason };

type ReuseReason = 'after-grace' | 'successor-used' | 'successor-unknown' | 'binding-mismatch';

/** HKDF's info label: this key is used for successors only, whatever else the secret signs. */
const SUCCESSOR_KEY_INFO = 'bookapi refresh-token successor v1';

/** 256 bits (random at login, HMAC-SHA256 after), base64url: 43 characters. */
const REFRESH_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Sessions and refresh-token rotation (RFC 9700 §4.14.2): every refresh
 * spends its token and returns its successor, so a session has exactly one
 * live refresh token. Presenting a spent token again means it was copied, so
 * the whole session — every token it led to — ends; the one exception is a
 * retry within REFRESH_REUSE_GRACE, which gets the same successor back.
 */
export class Sessions {
  private readonly successorKey: Buffer;

  constructor(private readonly o: SessionOptions) {
    this.successorKey = Buffer.from(hkdfSync('sha256', o.secret, '', SUCCESSOR_KEY_INFO, 32));
  }

  /** A password login: a new session, a fresh access token and its first refresh token. */
  async start(
    user: { id: number; publicId: string; passwordHash: string },
    client: ClientInfo,
    binding?: string,
  ): Promise<Started> {
    const now = this.o.clock.now();
    const sessionId = randomUUID();
    const sessionPublicId = randomBytes(16).toString('base64url');
    const refresh = randomBytes(32).toString('base64url');
    await writeTransaction(this.o.db, async (trx) => {
      // The password was verified outside any lock (argon2 takes a while). A password change,
      // a disable or a deletion that committed meanwhile must win: the session is made only if
      // the account still has the hash that was verified, under the account row's lock — which
      // those changes take too, so the session they end cannot be created after them.
      const current = await lockAccount(trx, user.id);
      if (!current || current.passwordHash !== user.passwordHash) throw errors.invalidCredentials();
      if (current.disabled) throw errors.accountDisabled();
      await insertSession(trx, {
        id: sessionId,
        publicId: sessionPublicId,
        userId: user.id,
        now,
        expiresAt: now + this.o.refreshTokenTtl * 1000,
        client,
        binding,
      });
      await insertRefreshToken(trx, hashRefreshToken(refresh), sessionId, now);
    });
    return { pair: this.pair(user.publicId, sessionId, refresh, true), sessionPublicId };
  }

  /** `binding`: the hash of the web client's binding secret, when the request carried one. */
  async refresh(
    refreshToken: string,
    log: FastifyBaseLogger,
    client: ClientInfo,
    binding?: string,
  ): Promise<TokenPair> {
    // An access token (or anything else) never has this shape.
    if (!REFRESH_TOKEN.test(refreshToken)) throw errors.invalidRefresh();
    const successor = this.successorOf(refreshToken);
    const outcome = await writeTransaction(this.o.db, (trx) =>
      this.rotate(trx, hashRefreshToken(refreshToken), hashRefreshToken(successor), client, binding),
    );
    if (outcome.kind === 'invalid') throw errors.invalidRefresh();
    const { user, sessionId, sessionPublicId } = outcome.record;
    const about = { actor: user.publicId, subject: user.publicId, session: sessionPublicId, client };
    if (outcome.kind === 'reused') {
      await this.o.audit.record(log, {
        type: 'refresh.reuse_detected',
        outcome: 'failure',
        ...about,
        detail: { reason: outcome.reason },
      });
      throw errors.invalidRefresh();
    }
    await this.o.audit.record(log, {
      type: 'refresh',
      outcome: outcome.kind === 'retry' ? 'grace_replay' : 'rotated',
      ...about,
    });
    return this.pair(user.publicId, sessionId, successor, false);
  }

  /**
   * Logout by refresh token (the web client's cookie, which works when its
   * access token has expired): ends the token's session, whether the token
   * is the live one or an older one of the chain — ending is always safe.
   * Undefined when it names no session.
   */
  async endByRefreshToken(refreshToken: string, binding: string): Promise<RefreshRecord | undefined> {
    if (!REFRESH_TOKEN.test(refreshToken)) return undefined;
    const record = await findRefreshToken(this.o.db, hashRefreshToken(refreshToken));
    if (!record || record.session.revokedAt !== null) return undefined;
    // Only the client the session is bound to may end it this way (another port has the cookie too).
    // A session without a binding (a JSON login) was never the browser's: its token in the cookie was planted.
    if (record.session.binding !== binding) return undefined;
    await revokeSession(this.o.db, record.sessionId, this.o.clock.now());
    return record;
  }

  /**
   * The decision, made while holding the session's lock so that concurrent
   * refreshes of one session (in any process) see each other's results.
   */
  private async rotate(
    trx: Db,
    tokenHash: string,
    successorHash: string,
    client: ClientInfo,
    binding: string | undefined,
  ): Promise<Outcome> {
    const now = this.o.clock.now();
    await lockSessionOf(trx, tokenHash);
    const record = await findRefreshToken(trx, tokenHash);
    if (!record || record.session.revokedAt !== null || record.user.disabled) return { kind: 'invalid' };
    const { sessionId } = record;
    // A web client's cookie without the secret it was issued with: taken from the browser by a
    // page on another port, or planted there. The session ends, as for any copied token. The
    // same for the token of a JSON login (no binding) presented as the cookie: a page that
    // planted its own account's token would otherwise switch the browser into that account.
    if ((record.session.binding ?? undefined) !== binding) {
      await revokeSession(trx, sessionId, now);
      return { kind: 'reused', record, reason: 'binding-mismatch' };
    }
    if (now >= record.session.expiresAt || now - record.session.lastUsedAt > this.o.refreshIdleTtl * 1000) {
      await revokeSession(trx, sessionId, now);
      return { kind: 'invalid' };
    }
    // A compare-and-swap: of two spends of one token exactly one succeeds, lock or no lock.
    if (record.usedAt === null && (await spendRefreshToken(trx, tokenHash, now))) {
      await insertRefreshToken(trx, successorHash, sessionId, now);
      await touchSession(trx, sessionId, now, client);
      return { kind: 'rotated', record };
    }
    // Spent already. Only an answer lost on its way back (or a second tab) may
    // have it again: the previous token, soon after its use, while the one
    // successor it led to is still unused. Anything else is a copy in use.
    const next = await findRefreshState(trx, successorHash);
    const reason = this.reuseReason(now - (record.usedAt ?? now), sessionId, next);
    if (reason === undefined) return { kind: 'retry', record };
    await revokeSession(trx, sessionId, now);
    return { kind: 'reused', record, reason };
  }

  /** Why a spent token presented again is a copy in use; undefined for an honest retry. */
  private reuseReason(
    msSinceSpent: number,
    sessionId: string,
    next: { sessionId: string; usedAt: number | null } | undefined,
  ): ReuseReason | undefined {
    if (msSinceSpent >= this.o.refreshReuseGrace * 1000) return 'after-grace';
    // Not found: spent before successors were derived, or by an instance with another JWT_SECRET.
    if (next === undefined || next.sessionId !== sessionId) return 'successor-unknown';
    if (next.usedAt !== null) return 'successor-used';
    return undefined;
  }

  /**
   * The token that follows `token`, always the same one: a retried refresh
   * gets the successor it already received, never a new branch. Keyed, so
   * the stored hashes alone (a copy of the database) name no live token.
   */
  private successorOf(token: string): string {
    return createHmac('sha256', this.successorKey).update(token).digest('base64url');
  }

  private pair(publicId: string, sessionId: string, refresh: string, fresh: boolean): TokenPair {
    const { token, expiresIn } = this.o.tokens.issue({ publicId, sessionId, fresh });
    return { token, refresh_token: refresh, token_type: 'Bearer', expires_in: expiresIn };
  }
}
