/**
 * What the auth code tells whoever counts (the Prometheus metrics, when they
 * are on). Kept as this small interface so the auth code knows nothing of
 * metrics, and a server without them pays one empty call.
 */
export interface Observer {
  /** An auth event as persisted in the audit log (its type and outcome). */
  authEvent(type: string, outcome: string): void;
  /** A token refused by the guard; `reason` is the error code (TOKEN_EXPIRED, INSUFFICIENT_SCOPE, …). */
  tokenRejected(reason: string): void;
}

export const silentObserver: Observer = {
  authEvent() {},
  tokenRejected() {},
};
