import type { Db } from '../db/database.js';
import type { HotPath, MaybePromise, Versions } from '../db/hot-path.js';
import { findPatRow, PAT_ROW_SQL, type PatRow } from '../personal-tokens/repository.js';
import {
  AUTH_ROW_SQL,
  type AuthLookup,
  type AuthRow,
  judgeAuth,
  lookupAuth,
} from '../sessions/repository.js';
import { grantedScopes } from './scopes.js';

/** Sessions remembered per process; beyond this the oldest are dropped (~200 bytes each). */
const MAX_ENTRIES = 10_000;

interface Entry {
  /** The 'auth' version read before the row: the entry holds while the version is unchanged. */
  version: string;
  /** When the answer stops holding (the session's or token's expiry); null for never. */
  expiresAt: number | null;
  /** The answer until then, built once. */
  live: AuthLookup;
}

const REVOKED: AuthLookup = { kind: 'revoked' };
const EXPIRED: AuthLookup = { kind: 'expired' };
const UNKNOWN: AuthLookup = { kind: 'unknown' };

/**
 * The per-request auth lookup (user and session) without a query while
 * nothing it depends on has changed. An entry is filed under the 'auth'
 * version read before its row, and used only while the version read for the
 * request at hand is the same: any revocation, disable, deletion or demotion
 * committed anywhere changes the version in its own transaction, so the very
 * next request sees it. Never timed; session expiry is still judged on every
 * request. A missing user or session is not cached (creating one does not
 * change the version), and neither is anything read without a version.
 */
export class AuthCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly db: Db,
    private readonly hot: HotPath | undefined,
  ) {}

  /**
   * `versions`: read for this request, after it arrived; undefined when no
   * direct read could be made, and then the query builder answers, uncached.
   */
  lookup(
    publicId: string,
    sessionId: string,
    now: number,
    versions: Versions | undefined,
  ): MaybePromise<AuthLookup> {
    if (versions === undefined || this.hot === undefined)
      return lookupAuth(this.db, publicId, sessionId, now);
    const key = `${sessionId} ${publicId}`;
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.version === versions.auth) return judge(entry, now, REVOKED);
    const rows = this.hot.read<AuthRow>(AUTH_ROW_SQL, [sessionId, publicId]);
    if (rows === undefined) return lookupAuth(this.db, publicId, sessionId, now);
    if (rows instanceof Promise) return rows.then((r) => this.file(key, r[0], versions.auth, sessionId, now));
    return this.file(key, rows[0], versions.auth, sessionId, now);
  }

  /**
   * A personal access token, by its SHA-256, the same way: filed under the
   * 'auth' version (a revocation, an owner disabled, deleted or demoted moves
   * it), expiry judged on every request, an unknown token never cached.
   */
  lookupPat(hash: string, now: number, versions: Versions | undefined): MaybePromise<AuthLookup> {
    if (versions === undefined || this.hot === undefined)
      return findPatRow(this.db, hash).then((row) => judgePat(row, now));
    const key = `pat ${hash}`;
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.version === versions.auth) return judge(entry, now, EXPIRED);
    const rows = this.hot.read<PatRow>(PAT_ROW_SQL, [hash]);
    if (rows === undefined) return findPatRow(this.db, hash).then((row) => judgePat(row, now));
    const filePat = (row: PatRow | undefined) => {
      if (row === undefined) return UNKNOWN;
      const live = judgePat(row, -Infinity);
      const expiresAt = row.expires_at === null ? null : Number(row.expires_at);
      return judge(this.remember(key, { version: versions.auth, expiresAt, live }), now, EXPIRED);
    };
    return rows instanceof Promise ? rows.then((r) => filePat(r[0])) : filePat(rows[0]);
  }

  private file(
    key: string,
    row: AuthRow | undefined,
    version: string,
    sessionId: string,
    now: number,
  ): AuthLookup {
    if (row === undefined || row.expires_at === null) return judgeAuth(row, sessionId, now);
    const live = judgeAuth(row, sessionId, -Infinity);
    return judge(this.remember(key, { version, expiresAt: Number(row.expires_at), live }), now, REVOKED);
  }

  private remember(key: string, entry: Entry): Entry {
    if (entry.live.kind === 'ok') Object.freeze(entry.live.user);
    if (!this.entries.delete(key) && this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, entry);
    return entry;
  }
}

/** A cached answer at `now`: past its expiry, a live answer becomes `ended`. */
function judge(entry: Entry, now: number, ended: AuthLookup): AuthLookup {
  if (entry.live.kind === 'ok' && entry.expiresAt !== null && entry.expiresAt <= now) return ended;
  return entry.live;
}

/** What a personal access token's row means at `now`; its scopes as its owner holds them now. */
export function judgePat(row: PatRow | undefined, now: number): AuthLookup {
  if (row === undefined) return UNKNOWN;
  if (row.revoked_at !== null) return REVOKED;
  if (row.disabled === 1) return { kind: 'disabled' };
  if (row.expires_at !== null && Number(row.expires_at) <= now) return EXPIRED;
  const scopes = grantedScopes(row.scopes, row.admin === 1);
  return {
    kind: 'ok',
    user: {
      id: row.id,
      publicId: row.public_id,
      username: row.username,
      // Least privilege: an admin's token without the admin scope acts as a user (other people's books).
      admin: scopes.has('admin'),
      sessionId: null,
      tokenId: row.token_id,
      scopes,
    },
  };
}
