import type { AuditType } from '../types.js';

/** Every event type, in words; a type the server adds fails the type-check here until named. */
export const EVENT_LABELS: Record<AuditType, string> = {
  signup: 'Account created',
  'login.success': 'Logged in',
  'login.failure': 'Failed login',
  'login.throttled': 'Login refused: too many attempts',
  'login.disabled': 'Login refused: account disabled',
  logout: 'Logged out',
  'logout.all': 'Logged out everywhere',
  refresh: 'Session renewed',
  'refresh.reuse_detected': 'Session ended: a refresh token was used twice',
  'password.changed': 'Password changed',
  'account.deleted': 'Account deleted',
  'account.disabled': 'Account disabled',
  'account.enabled': 'Account enabled',
  'account.promoted': 'Made an administrator',
  'account.demoted': 'Administrator rights removed',
  'session.ended': 'Device logged out',
  'sessions.ended': 'All devices logged out',
  'token.created': 'Access token created',
  'token.revoked': 'Access token revoked',
};
