import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { isForeignKeyViolation } from '../db/errors.js';
import { errors } from '../errors.js';
import {
  findRefreshToken,
  insertRefreshToken,
  insertSession,
  revokeSession,
  spendRefreshToken,
  touchSession,
} from '../sessions/repository.js';
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
}

/** 256 random bits, base64url: 43 characters. */
const REFRESH_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Sessions and refresh-token rotation (RFC 9700 §4.14.2): every refresh
 * spends its token and returns a new one; presenting a spent token again
 * means it was copied, so the whole session — every token it led to — ends.
 */
export class Sessions {
  constructor(private readonly o: SessionOptions) {}

  /** A password login: a new session, a fresh access token and its first refresh token. */
  async start(user: { id: number; publicId: string }): Promise<TokenPair> {
    const now = this.o.clock.now();
    const sessionId = randomUUID();
    const refresh = randomBytes(32).toString('base64url');
    try {
      await this.o.db.transaction().execute(async (trx) => {
        await insertSession(trx, {
          id: sessionId,
          userId: user.id,
          now,
          expiresAt: now + this.o.refreshTokenTtl * 1000,
        });
        await insertRefreshToken(trx, hashRefreshToken(refresh), sessionId, now);
      });
    } catch (error) {
      // The account was deleted while its password was being verified.
      if (isForeignKeyViolation(error)) throw errors.invalidCredentials();
      throw error;
    }
    return this.pair(user.publicId, sessionId, refresh, true);
  }

  async refresh(refreshToken: string, log: FastifyBaseLogger): Promise<TokenPair> {
    // An access token (or anything else) never has this shape.
    if (!REFRESH_TOKEN.test(refreshToken)) throw errors.invalidRefresh();
    const tokenHash = hashRefreshToken(refreshToken);
    const record = await findRefreshToken(this.o.db, tokenHash);
    if (!record || record.session.revokedAt !== null || record.user.disabled) throw errors.invalidRefresh();
    const now = this.o.clock.now();
    const { sessionId } = record;

    const graceMs = this.o.refreshReuseGrace * 1000;
    const reused = async () => {
      await revokeSession(this.o.db, sessionId, now);
      log.warn(
        { event: 'refresh.reuse_detected', user: record.user.publicId, session: sessionId },
        'refresh token reused; session revoked',
      );
      return errors.invalidRefresh();
    };
    if (record.usedAt !== null && now - record.usedAt >= graceMs) throw await reused();
    if (now >= record.session.expiresAt || now - record.session.lastUsedAt > this.o.refreshIdleTtl * 1000) {
      await revokeSession(this.o.db, sessionId, now);
      throw errors.invalidRefresh();
    }

    const next = randomBytes(32).toString('base64url');
    const rotated = await this.o.db.transaction().execute(async (trx) => {
      // Losing the race to spend it means a concurrent refresh just did: the
      // grace case, or reuse when there is no grace.
      const lostRace = record.usedAt === null && !(await spendRefreshToken(trx, tokenHash, now));
      if (lostRace && graceMs === 0) return false;
      await insertRefreshToken(trx, hashRefreshToken(next), sessionId, now);
      await touchSession(trx, sessionId, now);
      return true;
    });
    if (!rotated) throw await reused();
    log.info({ event: 'refresh', user: record.user.publicId, session: sessionId }, 'tokens refreshed');
    return this.pair(record.user.publicId, sessionId, next, false);
  }

  private pair(publicId: string, sessionId: string, refresh: string, fresh: boolean): TokenPair {
    const { token, expiresIn } = this.o.tokens.issue({ publicId, sessionId, fresh });
    return { token, refresh_token: refresh, token_type: 'Bearer', expires_in: expiresIn };
  }
}
