import type { Db } from '../db/database.js';
import type { HotPath, MaybePromise, Versions } from '../db/hot-path.js';
import {
  AUTH_ROW_SQL,
  type AuthLookup,
  type AuthRow,
  judgeAuth,
  lookupAuth,
} from '../sessions/repository.js';

/** Sessions remembered per process; beyond this the oldest are dropped (~200 bytes each). */
const MAX_ENTRIES = 10_000;

interface Entry {
  /** The 'auth' version read before the row: the entry holds while the version is unchanged. */
  version: string;
  row: AuthRow;
  /** The answer while the session has not expired, built once. */
  live: AuthLookup;
}

const REVOKED: AuthLookup = { kind: 'revoked' };

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
    if (entry !== undefined && entry.version === versions.auth) return judge(entry, now);
    const rows = this.hot.read<AuthRow>(AUTH_ROW_SQL, [sessionId, publicId]);
    if (rows === undefined) return lookupAuth(this.db, publicId, sessionId, now);
    if (rows instanceof Promise) return rows.then((r) => this.file(key, r[0], versions.auth, sessionId, now));
    return this.file(key, rows[0], versions.auth, sessionId, now);
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
    if (live.kind === 'ok') Object.freeze(live.user);
    const entry: Entry = { version, row, live };
    if (!this.entries.delete(key) && this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, entry);
    return judge(entry, now);
  }
}

function judge(entry: Entry, now: number): AuthLookup {
  if (entry.live.kind === 'ok' && Number(entry.row.expires_at) <= now) return REVOKED;
  return entry.live;
}
