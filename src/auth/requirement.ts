/** What a route needs before its handler may run. */
export type AuthMode = 'public' | 'optional' | 'token' | 'admin';

export interface RouteAuth {
  readonly mode: AuthMode;
}

const NAMES: Record<AuthMode, string> = {
  public: '@publicRoute',
  optional: '@optionalToken',
  token: '@tokenRequired',
  admin: '@adminRequired',
};

/**
 * Stacks two decorators. `admin` includes `token`, so they combine to the
 * stricter one; any other mix (public + token, optional + admin) is a
 * contradiction and fails at start-up rather than guessing.
 */
export function mergeMode(existing: RouteAuth | undefined, mode: AuthMode, where: string): RouteAuth {
  if (!existing || existing.mode === mode) return { mode };
  const pair = new Set([existing.mode, mode]);
  if (pair.has('token') && pair.has('admin')) return { mode: 'admin' };
  throw new TypeError(`${where}: ${NAMES[mode]} cannot be combined with ${NAMES[existing.mode]}`);
}

export function describeMode(mode: AuthMode): string {
  return NAMES[mode];
}
