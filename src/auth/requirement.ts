import type { Scope } from './scopes.js';

/** What a decorator asks for. */
export type Requirement = 'public' | 'optional' | 'token' | 'admin' | 'fresh' | 'session';

/** Who may reach a route's handler. */
export type AuthMode = 'public' | 'optional' | 'token' | 'admin';

export interface RouteAuth {
  readonly mode: AuthMode;
  /** The token must come from a password login made within FRESH_TOKEN_TTL. */
  readonly fresh: boolean;
  /**
   * Only a session's access token, never a personal access token, whatever
   * its scopes (managing sessions and tokens, logout). Implied by `fresh`:
   * a personal access token never comes from a password login.
   */
  readonly sessionOnly: boolean;
  /** Every one of these must be held (`admin` is implied by `adminRequired`). */
  readonly scopes: readonly Scope[];
}

const NAMES: Record<Requirement, string> = {
  public: '@publicRoute',
  optional: '@optionalToken',
  token: '@tokenRequired',
  admin: '@adminRequired',
  fresh: '@freshTokenRequired',
  session: '@sessionTokenRequired',
};

/** `fresh` and `session` add conditions to a token mode; they imply `token` when alone. */
const CONDITIONS = new Set<Requirement>(['fresh', 'session']);

/**
 * Stacks decorators. `admin` includes `token`; `fresh` and `session` add
 * conditions to either. Any other mix (public + token, optional + admin,
 * optional + fresh) is a contradiction and fails at start-up rather than
 * guessing. Scopes are kept apart (see withScopes).
 */
export function mergeRequirement(
  existing: RouteAuth | undefined,
  next: Requirement,
  where: string,
): RouteAuth {
  const fresh = next === 'fresh' || (existing?.fresh ?? false);
  const sessionOnly = fresh || next === 'session' || (existing?.sessionOnly ?? false);
  const scopes: readonly Scope[] = [];
  const mode: AuthMode = CONDITIONS.has(next) ? 'token' : (next as AuthMode);
  const merged = (m: AuthMode): RouteAuth => ({ mode: m, fresh, sessionOnly, scopes });
  if (!existing) return merged(mode);
  const modes = new Set([existing.mode, mode]);
  if (modes.size === 1) return merged(mode);
  if (!modes.has('public') && !modes.has('optional')) return merged(modes.has('admin') ? 'admin' : 'token');
  const previous = existing.fresh && existing.mode === 'token' ? 'fresh' : existing.mode;
  throw new TypeError(`${where}: ${NAMES[next]} cannot be combined with ${NAMES[previous]}`);
}

/** A route's requirement with the scopes its `@scope` decorators declared (alone, they imply a token). */
export function withScopes(auth: RouteAuth | undefined, scopes: readonly Scope[], where: string): RouteAuth {
  const base = auth ?? { mode: 'token' as const, fresh: false, sessionOnly: false, scopes: [] };
  if (base.mode === 'public' && scopes.length > 0)
    throw new TypeError(`${where}: @scope cannot be combined with @publicRoute`);
  return { ...base, scopes: [...new Set([...base.scopes, ...scopes])] };
}

/** The scopes a request must hold: the declared ones, and `admin` on admin routes. */
export function requiredScopes(auth: RouteAuth): readonly Scope[] {
  return auth.mode === 'admin' && !auth.scopes.includes('admin') ? [...auth.scopes, 'admin'] : auth.scopes;
}

export function describe(requirement: Requirement): string {
  return NAMES[requirement];
}

export function describeAuth(auth: RouteAuth): string {
  const parts = [NAMES[auth.mode]];
  if (auth.fresh) parts.push(NAMES.fresh);
  else if (auth.sessionOnly) parts.push(NAMES.session);
  if (auth.scopes.length > 0) parts.push(`@scope(${auth.scopes.join(', ')})`);
  return parts.join(' + ');
}
