// The one way this client talks to the API. The access token lives in this module's memory only:
// never in localStorage or sessionStorage, where any script on the page could read it. The refresh
// token lives in an HttpOnly, SameSite=Strict cookie scoped to /token that no script can read at all.
import type { AccessGrant, ErrorBody, ErrorCode } from './types.js';

/** An answer other than 2xx, with the API's own message and code. */
export class ApiFailure extends Error {
  override name = 'ApiFailure';

  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'NETWORK',
    message: string,
    /** Seconds, from Retry-After on a 429. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** Why the session is over, for the login form's message. */
export type SessionEnd = 'ended' | 'deleted';

const BINDING_KEY = 'bookapi-binding';

/**
 * A secret of this origin: cookies are shared by every port of a host, storage is not. The server
 * binds the cookie session to it (it keeps only a hash) and refuses the cookie without it, so a
 * page on another port that is sent the cookie, or plants its own, gets nothing. Not a token: it
 * opens nothing by itself.
 */
function binding(): string {
  let value = localStorage.getItem(BINDING_KEY);
  if (value === null || !/^[A-Za-z0-9_-]{43}$/.test(value)) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    value = btoa(String.fromCharCode(...bytes))
      .replaceAll('+', '-')
      .replaceAll('/', '_')
      .replace(/=+$/, '');
    localStorage.setItem(BINDING_KEY, value);
  }
  return value;
}

/**
 * Whether this browser has a session to restore: '1' yes, '0' no. Not a secret, and not trusted:
 * it only spares a logged-out visitor's page the refresh that would fail (and a 401 in the
 * console) on every load. Unknown (a browser that used the client before the flag existed, and so
 * has its binding secret): the page asks once, and the answer sets it.
 */
const SIGNED_IN_KEY = 'bookapi-signed-in';
const signedIn = (yes: boolean) => localStorage.setItem(SIGNED_IN_KEY, yes ? '1' : '0');

/** Cookie mode: the server keeps the refresh token in its cookie instead of the body. */
const cookieMode = () => ({ 'X-Bookapi-Refresh': 'cookie', 'X-Bookapi-Binding': binding() });
/** Held while this browser refreshes, logs in or out, so no two tabs present one refresh token. */
const LOCK = 'bookapi-refresh';
/** Any of these on a 401 means the token is no good any more; a refresh may still save the day. */
const STALE: ReadonlySet<string> = new Set([
  'TOKEN_EXPIRED',
  'TOKEN_REVOKED',
  'TOKEN_INVALID',
  'TOKEN_MISSING',
]);

let access: { token: string; expiresAt: number } | null = null;
let refreshing: Promise<string | null> | null = null;
let onEnd: (why: SessionEnd) => void = () => {};

/** Called once by the session store: what to do when the server ends the session. */
export function onSessionEnd(handler: (why: SessionEnd) => void): void {
  onEnd = handler;
}

export function forgetToken(): void {
  access = null;
  subject = undefined;
  signedIn(false);
}

let subject: string | undefined;
let onSwitch: () => void = () => {};

/** Called once by the session store: the shared cookie now names another user (another tab logged in). */
export function onUserSwitch(handler: () => void): void {
  onSwitch = handler;
}

function keep(grant: AccessGrant): void {
  access = { token: grant.token, expiresAt: Date.now() + grant.expires_in * 1000 };
  signedIn(true);
  // The token's subject (its payload is readable; it is verified by the server, not here).
  let sub: string | undefined;
  try {
    const payload = grant.token.split('.')[1] ?? '';
    sub = (JSON.parse(atob(payload.replaceAll('-', '+').replaceAll('_', '/'))) as { sub?: string }).sub;
  } catch {
    sub = undefined;
  }
  const before = subject;
  subject = sub;
  if (before !== undefined && sub !== undefined && before !== sub) onSwitch();
}

/**
 * Runs `task` while no other tab of this browser refreshes. Without the Web Locks API (a page
 * served over plain HTTP by a name other than localhost is not a secure context), tabs rely on
 * the server's REFRESH_REUSE_GRACE, which exists for exactly that race.
 */
export async function exclusive<T>(task: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  return locks ? await locks.request(LOCK, task) : task();
}

async function failure(res: Response): Promise<ApiFailure> {
  let body: Partial<ErrorBody> = {};
  try {
    body = (await res.json()) as Partial<ErrorBody>;
  } catch {
    // Not JSON (a proxy's page): the status line says enough.
  }
  const retry = Number(res.headers.get('retry-after'));
  return new ApiFailure(
    res.status,
    body.code ?? 'INTERNAL_ERROR',
    // Validation messages name the part of the request ("body/password must …"): the field is enough.
    (body.message ?? `${res.status} ${res.statusText}`).replace(/^(?:body|querystring|params)\//, ''),
    Number.isFinite(retry) && retry > 0 ? retry : undefined,
  );
}

/** Reads an answer whose body is not needed: a body left unread is cancelled, and logged as a failed load. */
async function drain(res: Response): Promise<void> {
  await res.arrayBuffer().catch(() => undefined);
}

async function send(method: string, path: string, body: unknown, headers: Record<string, string>) {
  try {
    return await fetch(path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      // The cookie goes to /token/* only (its Path); nothing else needs it.
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiFailure(0, 'NETWORK', 'The server cannot be reached. Check your connection and try again.');
  }
}

/** Trades the refresh cookie for a new access token; null when the session is over. */
function refresh(): Promise<string | null> {
  // Requests of this tab that fail together share one refresh.
  refreshing ??= exclusive(async () => {
    const res = await send('POST', '/token/refresh', undefined, cookieMode());
    if (res.status === 201) {
      keep((await res.json()) as AccessGrant);
      return access?.token ?? null;
    }
    if (res.status === 401) {
      await drain(res);
      access = null;
      signedIn(false);
      return null;
    }
    throw await failure(res);
  }).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** Restores the session a reload left behind (the cookie survives it; the access token does not). */
export async function restore(): Promise<boolean> {
  const known = localStorage.getItem(SIGNED_IN_KEY);
  if (known === '0' || (known === null && localStorage.getItem(BINDING_KEY) === null)) return false;
  return (await refresh()) !== null;
}

/** A token to send: refreshed first when its lifetime, as the server stated it, is over. */
async function token(): Promise<string | null> {
  if (access && Date.now() >= access.expiresAt) return refresh();
  return access?.token ?? null;
}

export interface Answer<T> {
  data: T;
  res: Response;
}

/**
 * An authenticated call. A 401 for a stale token is refreshed once and the request retried;
 * when the refresh is refused too, the session is over and the page goes back to the login form.
 */
export async function call<T>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
  const used = await token();
  if (used === null) return ended('ended');
  let res = await send(method, path, body, { authorization: `Bearer ${used}` });
  if (res.status === 401) {
    const problem = await failure(res);
    if (!STALE.has(problem.code)) throw problem;
    // Another request of this tab may have refreshed already.
    const next = access && access.token !== used ? access.token : await refresh();
    if (next === null) return ended('ended');
    res = await send(method, path, body, { authorization: `Bearer ${next}` });
  }
  if (res.ok) return { data: (await res.json()) as T, res };
  const problem = await failure(res);
  if (res.status === 401 && STALE.has(problem.code)) return ended('ended');
  if (problem.code === 'USER_NOT_FOUND' && !path.startsWith('/admin/')) return ended('deleted');
  throw problem;
}

function ended(why: SessionEnd): never {
  access = null;
  onEnd(why);
  throw new ApiFailure(401, 'TOKEN_REVOKED', 'Your session has ended.');
}

/** The routes that need no token: signup, and logins (which set the refresh cookie). */
export async function post<T>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await send('POST', path, body, headers);
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/** A password login; the refresh token comes back as the HttpOnly cookie only. */
export async function login(username: string, password: string): Promise<void> {
  // Under the lock: a tab refreshing meanwhile would put the old session's cookie back.
  await exclusive(async () => {
    keep(await post<AccessGrant>('/login', { username, password }, cookieMode()));
  });
}

/**
 * A fresh login for a change that needs one (password, account deletion, tokens, admin changes):
 * a new session, then the old one of this browser is ended, so no device is left behind.
 */
export async function loginAgain(username: string, password: string): Promise<void> {
  const before = await call<{ sessions: { id: string; current: boolean }[] }>('GET', '/me/sessions').then(
    (a) => a.data.sessions.find((s) => s.current)?.id,
    () => undefined,
  );
  await exclusive(async () => {
    keep(await post<AccessGrant>('/login', { username, password }, cookieMode()));
    if (before !== undefined && access) {
      // With the new token: the old session's tokens stop working, other tabs refresh onto this one.
      await drain(
        await send('DELETE', `/me/sessions/${encodeURIComponent(before)}`, undefined, {
          authorization: `Bearer ${access.token}`,
        }),
      );
    }
  });
}

/** Ends this browser's session by its cookie (works with an expired access token too). */
export async function logout(): Promise<void> {
  await exclusive(async () => {
    const res = await send('POST', '/token/logout', undefined, cookieMode());
    access = null;
    if (!res.ok) throw await failure(res);
    await drain(res);
  });
}

/** Ends every session of the account, this one included; the server clears the cookie too. */
export async function logoutEverywhere(): Promise<void> {
  await call('POST', '/logout/all');
  access = null;
}

/** The URL of a `Link: <…>; rel="next"` header, or undefined on the last page. */
export function nextLink(res: Response): string | undefined {
  const link = res.headers.get('link');
  return link ? /<([^>]+)>\s*;\s*rel="next"/.exec(link)?.[1] : undefined;
}
