import { scopesOf } from '../auth/scopes.js';
import type { Db } from '../db/database.js';
import { isPostgres } from '../db/dialect.js';
import type { ClientInfo } from '../http/client.js';
import type { AuthUser } from '../users/user.js';

export interface NewSession {
  id: string;
  publicId: string;
  userId: number;
  now: number;
  expiresAt: number;
  client: ClientInfo;
  /** The web client's binding hash (cookie mode), or undefined. */
  binding?: string;
}

export async function insertSession(db: Db, s: NewSession): Promise<void> {
  await db
    .insertInto('sessions')
    .values({
      id: s.id,
      public_id: s.publicId,
      user_id: s.userId,
      created_at: s.now,
      last_used_at: s.now,
      expires_at: s.expiresAt,
      user_agent: s.client.userAgent,
      ip: s.client.ip,
      binding: s.binding ?? null,
    })
    .execute();
}

/** A live session as its user (or an admin) sees it. */
export interface SessionView {
  publicId: string;
  id: string;
  createdAt: number;
  lastUsedAt: number;
  userAgent: string | null;
  ip: string | null;
}

/** A user's live sessions (not revoked, not expired, not idle too long), newest first. */
export async function listLiveSessions(
  db: Db,
  userId: number,
  now: number,
  idleMs: number,
): Promise<SessionView[]> {
  const rows = await db
    .selectFrom('sessions')
    .select(['id', 'public_id', 'created_at', 'last_used_at', 'user_agent', 'ip'])
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .where('last_used_at', '>', now - idleMs)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    // Logins are throttled, not capped: a page of the newest is what a person can use.
    .limit(MAX_LISTED_SESSIONS)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    publicId: r.public_id,
    createdAt: Number(r.created_at),
    lastUsedAt: Number(r.last_used_at),
    userAgent: r.user_agent,
    ip: r.ip,
  }));
}

export const MAX_LISTED_SESSIONS = 500;

/** Ends one of a user's sessions by its public id; the session's private id, or undefined if none was live. */
export async function revokeSessionByPublicId(
  db: Db,
  userId: number,
  publicId: string,
  now: number,
): Promise<string | undefined> {
  const row = await db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('public_id', '=', publicId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('id')
    .executeTakeFirst();
  return row?.id;
}

/** A session's public id, for the audit trail. */
export async function sessionPublicId(db: Db, sessionId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('sessions')
    .select('public_id')
    .where('id', '=', sessionId)
    .executeTakeFirst();
  return row?.public_id;
}

export async function insertRefreshToken(
  db: Db,
  tokenHash: string,
  sessionId: string,
  now: number,
): Promise<void> {
  await db
    .insertInto('refresh_tokens')
    .values({ token_hash: tokenHash, session_id: sessionId, created_at: now })
    .execute();
}

export interface RefreshRecord {
  sessionId: string;
  usedAt: number | null;
  session: { lastUsedAt: number; expiresAt: number; revokedAt: number | null; binding: string | null };
  user: { id: number; publicId: string; disabled: boolean };
  /** The session's public id, for the audit trail. */
  sessionPublicId: string;
}

/** A refresh token with its session and user, in one query. */
export async function findRefreshToken(db: Db, tokenHash: string): Promise<RefreshRecord | undefined> {
  const row = await db
    .selectFrom('refresh_tokens')
    .innerJoin('sessions', 'sessions.id', 'refresh_tokens.session_id')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'refresh_tokens.session_id',
      'refresh_tokens.used_at',
      'sessions.last_used_at',
      'sessions.expires_at',
      'sessions.revoked_at',
      'sessions.public_id as session_public_id',
      'sessions.binding',
      'users.id as user_id',
      'users.public_id',
      'users.disabled',
    ])
    .where('refresh_tokens.token_hash', '=', tokenHash)
    .executeTakeFirst();
  return (
    row && {
      sessionId: row.session_id,
      usedAt: row.used_at === null ? null : Number(row.used_at),
      session: {
        lastUsedAt: Number(row.last_used_at),
        expiresAt: Number(row.expires_at),
        revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
        binding: row.binding,
      },
      user: { id: row.user_id, publicId: row.public_id, disabled: row.disabled === 1 },
      sessionPublicId: row.session_public_id,
    }
  );
}

/**
 * Serializes every refresh of one session: on PostgreSQL, locks the session
 * row of this token until the transaction ends (a token's session never
 * changes, so the row found is the right one); on SQLite the surrounding
 * writeTransaction already holds the database's write lock. Reads made after
 * this see whatever the previous holder committed.
 */
export async function lockSessionOf(trx: Db, tokenHash: string): Promise<void> {
  if (!isPostgres(trx)) return;
  await trx
    .selectFrom('sessions')
    .select('id')
    .where(
      'id',
      '=',
      trx.selectFrom('refresh_tokens').select('session_id').where('token_hash', '=', tokenHash),
    )
    .forUpdate()
    .execute();
}

/** Whether a refresh token exists, which session it belongs to and whether it is spent. */
export async function findRefreshState(
  db: Db,
  tokenHash: string,
): Promise<{ sessionId: string; usedAt: number | null } | undefined> {
  const row = await db
    .selectFrom('refresh_tokens')
    .select(['session_id', 'used_at'])
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  return row && { sessionId: row.session_id, usedAt: row.used_at === null ? null : Number(row.used_at) };
}

/**
 * Marks a refresh token spent. Conditional, so of two requests racing with
 * the same token exactly one spends it; the other sees `false`.
 */
export async function spendRefreshToken(db: Db, tokenHash: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('refresh_tokens')
    .set({ used_at: now })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** A refresh: the session was used now, by this client (last_used_at and these leave the auth version alone). */
export async function touchSession(
  db: Db,
  sessionId: string,
  now: number,
  client: ClientInfo,
): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ last_used_at: now, user_agent: client.userAgent, ip: client.ip })
    .where('id', '=', sessionId)
    .execute();
}

export async function revokeSession(db: Db, sessionId: string, now: number): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Ends every session of a user, or every one but `keep`. Returns how many ended. */
export async function revokeUserSessions(
  db: Db,
  userId: number,
  now: number,
  keep?: string,
): Promise<number> {
  let query = db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (keep !== undefined) query = query.where('id', '!=', keep);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export type AuthLookup =
  | { kind: 'no-user' }
  | { kind: 'revoked' }
  | { kind: 'disabled' }
  /** Personal access tokens: one that was never issued, and one past its expiry. */
  | { kind: 'unknown' }
  | { kind: 'expired' }
  | { kind: 'ok'; user: AuthUser };

/** The user (admin flag as stored now) and the token's session, if it exists. */
export interface AuthRow {
  id: number;
  public_id: string;
  username: string;
  admin: number;
  disabled: number;
  revoked_at: number | null;
  expires_at: number | null;
}

/**
 * lookupAuth's query as a hot statement (src/db/read-side.ts) for the
 * validated cache in src/auth/auth-cache.ts. Parameters: session id, public id.
 */
export const AUTH_ROW_SQL =
  'select users.id, users.public_id, users.username, users.admin, users.disabled, ' +
  'sessions.revoked_at, sessions.expires_at from users ' +
  'left join sessions on sessions.user_id = users.id and sessions.id = ? ' +
  'where users.public_id = ?';

/**
 * The one query behind every protected request: the user (admin flag read
 * fresh) and the token's session, so a logout anywhere is seen here at once.
 * The guard runs it through its cache, which reads the same row (AUTH_ROW_SQL)
 * only when the data it depends on has changed.
 */
export async function lookupAuth(
  db: Db,
  publicId: string,
  sessionId: string,
  now: number,
): Promise<AuthLookup> {
  const row = await db
    .selectFrom('users')
    .leftJoin('sessions', (join) =>
      join.onRef('sessions.user_id', '=', 'users.id').on('sessions.id', '=', sessionId),
    )
    .select([
      'users.id',
      'users.public_id',
      'users.username',
      'users.admin',
      'users.disabled',
      'sessions.revoked_at',
      'sessions.expires_at',
    ])
    .where('users.public_id', '=', publicId)
    .executeTakeFirst();
  return judgeAuth(row, sessionId, now);
}

/** What a lookup row means at `now`: session expiry is decided here, on every request. */
export function judgeAuth(row: AuthRow | undefined, sessionId: string, now: number): AuthLookup {
  if (!row) return { kind: 'no-user' };
  if (row.disabled === 1) return { kind: 'disabled' };
  if (row.expires_at === null || row.revoked_at !== null || Number(row.expires_at) <= now)
    return { kind: 'revoked' };
  return {
    kind: 'ok',
    user: {
      id: row.id,
      publicId: row.public_id,
      username: row.username,
      admin: row.admin === 1,
      sessionId,
      tokenId: null,
      scopes: scopesOf(row.admin === 1),
    },
  };
}
