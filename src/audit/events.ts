import type { ClientInfo } from '../http/client.js';

/** Every auth event the server logs and persists; a fixed list, so it can label metrics too. */
export const AUDIT_TYPES = [
  'signup',
  'login.success',
  'login.failure',
  'login.throttled',
  'login.disabled',
  'logout',
  'logout.all',
  'refresh',
  'refresh.reuse_detected',
  'password.changed',
  'account.deleted',
  'account.disabled',
  'account.enabled',
  'account.promoted',
  'account.demoted',
  'session.ended',
  'sessions.ended',
  'token.created',
  'token.revoked',
] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

/**
 * `success`/`failure` for most events; a refresh is `rotated` or
 * `grace_replay` (a retry within REFRESH_REUSE_GRACE that got the same
 * successor back).
 */
export type AuditOutcome = 'success' | 'failure' | 'rotated' | 'grace_replay';

/** One event. Users by public id; never a password, a token or a token's hash. */
export interface AuditEvent {
  type: AuditType;
  outcome: AuditOutcome;
  /** Who acted: the user themself, an admin, or nobody known (a failed login). */
  actor?: string | null;
  /** Whose account it concerns. */
  subject?: string | null;
  /** The name given at a login that matched no account, or failed before one was known. */
  username?: string;
  /** The public id of the session concerned (never its private id). */
  session?: string | null;
  client?: ClientInfo;
  /** Small, event-specific facts: scopes granted, sessions ended, the reason of a reuse. */
  detail?: Record<string, string | number | boolean | readonly string[]>;
}

/** Warnings for what an operator should look at; information for the rest. */
export const WARNINGS: ReadonlySet<AuditType> = new Set(['login.throttled', 'refresh.reuse_detected']);

export const MESSAGES: Record<AuditType, string> = {
  signup: 'user registered',
  'login.success': 'logged in',
  'login.failure': 'login failed',
  'login.throttled': 'login throttled',
  'login.disabled': 'login to a disabled account',
  logout: 'logged out',
  'logout.all': 'logged out everywhere',
  refresh: 'tokens refreshed',
  'refresh.reuse_detected': 'refresh token reused; session revoked',
  'password.changed': 'password changed',
  'account.deleted': 'account deleted',
  'account.disabled': 'account disabled',
  'account.enabled': 'account enabled',
  'account.promoted': 'account made admin',
  'account.demoted': 'account no longer admin',
  'session.ended': 'session ended',
  'sessions.ended': 'all sessions ended',
  'token.created': 'personal access token created',
  'token.revoked': 'personal access token revoked',
};
