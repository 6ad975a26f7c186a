/**
 * What a personal access token may be granted. A session's access token
 * carries every scope its user has: all of them, `admin` only for an admin.
 */
export const SCOPES = ['books:read', 'books:write', 'account:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  'books:read': 'List, search and read books',
  'books:write': 'Add, change and delete books (one’s own, or any for an admin)',
  'account:read': 'Read the account and its activity',
  admin: 'Admin routes that need no fresh login: list users, read the audit log (admins only)',
};

const ALL: ReadonlySet<Scope> = new Set(SCOPES);
const ALL_BUT_ADMIN: ReadonlySet<Scope> = new Set(SCOPES.filter((s) => s !== 'admin'));

/** The scopes a user has right now: a demoted admin loses `admin` on the next request. */
export function scopesOf(admin: boolean): ReadonlySet<Scope> {
  return admin ? ALL : ALL_BUT_ADMIN;
}

export function isScope(value: string): value is Scope {
  return (ALL as ReadonlySet<string>).has(value);
}

/** A personal access token's scopes as stored (space-separated) and as its owner holds them now. */
export function grantedScopes(stored: string, admin: boolean): ReadonlySet<Scope> {
  const held = scopesOf(admin);
  return new Set(stored.split(' ').filter((s): s is Scope => isScope(s) && held.has(s)));
}
