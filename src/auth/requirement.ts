/** What a decorator asks for. */
export type Requirement = 'public' | 'optional' | 'token' | 'admin' | 'fresh';

/** Who may reach a route's handler. */
export type AuthMode = 'public' | 'optional' | 'token' | 'admin';

export interface RouteAuth {
  readonly mode: AuthMode;
  /** The token must come from a password login made within FRESH_TOKEN_TTL. */
  readonly fresh: boolean;
}

const NAMES: Record<Requirement, string> = {
  public: '@publicRoute',
  optional: '@optionalToken',
  token: '@tokenRequired',
  admin: '@adminRequired',
  fresh: '@freshTokenRequired',
};

/**
 * Stacks decorators. `admin` includes `token`; `fresh` adds a condition to
 * either. Any other mix (public + token, optional + admin, optional + fresh)
 * is a contradiction and fails at start-up rather than guessing.
 */
export function mergeRequirement(
  existing: RouteAuth | undefined,
  next: Requirement,
  where: string,
): RouteAuth {
  const fresh = next === 'fresh' || (existing?.fresh ?? false);
  const mode: AuthMode = next === 'fresh' ? 'token' : next;
  if (!existing) return { mode, fresh };
  const modes = new Set([existing.mode, mode]);
  if (modes.size === 1) return { mode, fresh };
  if (!modes.has('public') && !modes.has('optional'))
    return { mode: modes.has('admin') ? 'admin' : 'token', fresh };
  const previous = existing.fresh && existing.mode === 'token' ? 'fresh' : existing.mode;
  throw new TypeError(`${where}: ${NAMES[next]} cannot be combined with ${NAMES[previous]}`);
}

export function describe(requirement: Requirement): string {
  return NAMES[requirement];
}

export function describeAuth(auth: RouteAuth): string {
  return auth.fresh ? `${NAMES[auth.mode]} + ${NAMES.fresh}` : NAMES[auth.mode];
}
