import type { Scope } from '../auth/scopes.js';

/** The authenticated user a decorator hands to a handler. Never carries the password hash. */
export interface AuthUser {
  readonly id: number;
  readonly publicId: string;
  readonly username: string;
  readonly admin: boolean;
  /** The session the request's token belongs to (what POST /logout ends); null for a personal access token. */
  readonly sessionId: string | null;
  /** The personal access token's public id; null for a session's access token. */
  readonly tokenId: string | null;
  /** What this request's token may do: a session's holds all its user's scopes. */
  readonly scopes: ReadonlySet<Scope>;
}

/** What an `adminRequired` handler receives: the admin flag is known to be set. */
export type AdminUser = AuthUser & { readonly admin: true };

/**
 * The session of a session-only route's user. The guard lets no personal
 * access token reach such a route; this says so to the type checker, loudly.
 */
export function sessionOf(user: AuthUser): string {
  if (user.sessionId === null) throw new Error('a session-only route was reached without a session');
  return user.sessionId;
}
