import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyRequest,
  onRequestHookHandler,
  RouteOptions,
} from 'fastify';
import type { Clock } from '../clock.js';
import type { HotPath, Versions } from '../db/hot-path.js';
import { ApiError, errors } from '../errors.js';
import { ErrorResponse } from '../http/schemas.js';
import type { Observer } from '../metrics/observer.js';
import { hashToken, isWellFormedPat, looksLikePat } from '../personal-tokens/token.js';
import type { TokenUsage } from '../personal-tokens/usage.js';
import type { AuthLookup } from '../sessions/repository.js';
import type { AuthUser } from '../users/user.js';
import type { AuthCache } from './auth-cache.js';
import { authOf } from './decorators.js';
import { describeAuth, type RouteAuth, requiredScopes } from './requirement.js';
import type { Scope } from './scopes.js';
import type { AccessClaims, Tokens } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the guard before the body is read; null on public routes and anonymous optional ones. */
    user: AuthUser | null;
    /**
     * The cached data's versions, read by the guard after this request arrived:
     * handlers check their own caches against them. Null when none was read.
     */
    dataVersions: Versions | null;
  }
  interface FastifyContextConfig {
    /** The route's auth requirement, as recorded by its decorator. */
    auth?: RouteAuth;
  }
}

export interface GuardDeps {
  auth: AuthCache;
  hot: HotPath | undefined;
  tokens: Tokens;
  clock: Clock;
  /** Seconds after a password login during which its tokens count as fresh. */
  freshTokenTtl: number;
  /** Where personal access tokens' uses are noted; undefined when PERSONAL_ACCESS_TOKENS is off. */
  personalTokens: TokenUsage | undefined;
  observer: Observer;
}

const PUBLIC_CONTEXT = 'bookapiPublicContext';

/**
 * Registers a third-party plugin whose routes are all public by nature (the
 * docs UI's static files), the one named exception to deny-by-default.
 */
export async function registerPublicPlugin(app: FastifyInstance, plugin: FastifyPluginAsync): Promise<void> {
  await app.register(async (context) => {
    context.decorate(PUBLIC_CONTEXT, true);
    await context.register(plugin);
  });
}

/**
 * Enforces the decorators for every route of the app: a route whose handler
 * carries no decorator fails at start-up (deny by default), and every other
 * route gets an onRequest hook, which Fastify runs before it reads or parses
 * the body. Install it before any route is registered.
 */
export function installGuard(app: FastifyInstance, deps: GuardDeps): void {
  app.decorateRequest('user', null);
  app.decorateRequest('dataVersions', null);
  const hooks = new Map<string, onRequestHookHandler>();
  const hookFor = (auth: RouteAuth) => {
    const key = `${auth.mode}:${auth.fresh}:${auth.sessionOnly}:${requiredScopes(auth).join(',')}`;
    let hook = hooks.get(key);
    if (!hook) {
      hook = authenticator(deps, auth);
      hooks.set(key, hook);
    }
    return hook;
  };

  app.addHook('onRoute', function (this: FastifyInstance, route) {
    if (this.hasDecorator(PUBLIC_CONTEXT))
      return documentAuth(route, { mode: 'public', fresh: false, sessionOnly: false, scopes: [] });
    const auth = authOf(route.handler);
    if (!auth) {
      throw new Error(
        `${String(route.method)} ${route.url} has no auth decorator: wrap its handler in ` +
          'tokenRequired, adminRequired or optionalToken, or mark it publicRoute',
      );
    }
    // With personal access tokens on, a route must say what one needs: deny by default.
    if (
      deps.personalTokens &&
      auth.mode !== 'public' &&
      !auth.sessionOnly &&
      requiredScopes(auth).length === 0
    ) {
      throw new Error(
        `${String(route.method)} ${route.url} (${describeAuth(auth)}) declares no scope: add @scope(…) for ` +
          'what a personal access token needs, or @sessionTokenRequired if none may use it',
      );
    }
    route.config = { ...route.config, auth };
    // A new array: Fastify's automatic HEAD route shares the original options.
    if (auth.mode !== 'public') route.onRequest = [hookFor(auth), ...toArray(route.onRequest)];
    documentAuth(route, auth);
  });
}

/**
 * A callback hook, and synchronous all the way on SQLite when the cache
 * holds: no promise per request. On PostgreSQL it waits for the shared
 * version read, then answers from the cache or one query.
 */
function authenticator(deps: GuardDeps, auth: RouteAuth): onRequestHookHandler {
  const { mode, fresh, sessionOnly } = auth;
  const scopes = requiredScopes(auth);
  return function authenticate(req, _reply, done) {
    let claims: AccessClaims | undefined;
    let patHash: string | undefined;
    let versions: ReturnType<HotPath['versions']>;
    try {
      const token = readToken(req);
      if (token === undefined) {
        if (mode === 'optional') return done();
        throw errors.tokenMissing();
      }
      if (looksLikePat(token)) {
        // Off, or not one we could have issued: the same answer as any bad token.
        if (deps.personalTokens === undefined || !isWellFormedPat(token)) throw errors.tokenInvalid();
        patHash = hashToken(token);
      } else {
        claims = deps.tokens.verify(token);
      }
      // Read now, after the request arrived, and before any cached row is used.
      versions = deps.hot?.versions();
    } catch (error) {
      return reject(error as Error, done);
    }
    if (versions instanceof Promise) versions.then((read) => lookUp(req, claims, patHash, read, done), done);
    else lookUp(req, claims, patHash, versions, done);
  };

  // Plain functions, not closures: the synchronous path allocates nothing of its own.
  function lookUp(
    req: FastifyRequest,
    claims: AccessClaims | undefined,
    patHash: string | undefined,
    versions: Versions | undefined,
    done: Done,
  ): void {
    let found: ReturnType<AuthCache['lookup']>;
    try {
      if (versions !== undefined) req.dataVersions = versions;
      const now = deps.clock.now();
      found =
        claims !== undefined
          ? deps.auth.lookup(claims.sub, claims.sid, now, versions)
          : deps.auth.lookupPat(patHash as string, now, versions);
    } catch (error) {
      reject(error as Error, done);
      return;
    }
    if (found instanceof Promise)
      found.then(
        (result) => admit(req, claims, result, done),
        (error: Error) => reject(error, done),
      );
    else admit(req, claims, found, done);
  }

  function admit(req: FastifyRequest, claims: AccessClaims | undefined, found: AuthLookup, done: Done): void {
    try {
      if (found.kind !== 'ok') throw refusal(found.kind);
      const { user } = found;
      if (claims === undefined) {
        // A personal access token: never where a session is needed, and only within its scopes
        // (its user counts as an admin only when it holds the admin scope).
        if (sessionOnly) throw errors.sessionTokenRequired();
        if (!holdsAll(user.scopes, scopes)) throw errors.insufficientScope(scopes);
        if (mode === 'admin' && !user.admin) throw errors.adminRequired();
        deps.personalTokens?.used(user.tokenId as string, deps.clock.now());
      } else {
        if (mode === 'admin' && !user.admin) throw errors.adminRequired();
        if (fresh && !(claims.fresh && deps.clock.now() / 1000 - claims.iat <= deps.freshTokenTtl))
          throw errors.freshLoginRequired();
        // A session holds every scope of its user: only `admin` can be missing, and it is refused above.
        if (!holdsAll(user.scopes, scopes)) throw errors.insufficientScope(scopes);
      }
      req.user = user;
    } catch (error) {
      reject(error as Error, done);
      return;
    }
    done();
  }

  function reject(error: Error, done: Done): void {
    if (error instanceof ApiError) deps.observer.tokenRejected(error.code);
    done(error);
  }
}

function holdsAll(held: ReadonlySet<Scope>, needed: readonly Scope[]): boolean {
  for (const scope of needed) if (!held.has(scope)) return false;
  return true;
}

function refusal(kind: Exclude<AuthLookup['kind'], 'ok'>): ApiError {
  switch (kind) {
    case 'no-user':
      return errors.userNotFound();
    case 'unknown':
      return errors.tokenInvalid();
    case 'expired':
      return errors.tokenExpired();
    default:
      return errors.tokenRevoked();
  }
}

type Done = (error?: Error) => void;

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * RFC 6750 §2.1 `Authorization: Bearer`, or the original tutorial's
 * `x-access-token`. Never the query string or a cookie (RFC 6750 §5.3).
 */
export function readToken(req: FastifyRequest): string | undefined {
  const header = req.headers['x-access-token'];
  if (typeof header === 'string' && header !== '') return header.trim();
  const authorization = req.headers.authorization;
  if (authorization === undefined) return undefined;
  return BEARER.exec(authorization)?.[1];
}

function toArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Every route's OpenAPI entry states its auth requirement, the scopes it needs and the errors that come with it. */
function documentAuth(route: RouteOptions, auth: RouteAuth): void {
  const { mode, fresh, sessionOnly } = auth;
  const schema = { ...route.schema };
  const responses = { ...(schema.response as Record<string, unknown> | undefined) };
  if (mode === 'public') {
    schema.security = [];
  } else {
    // OpenAPI 3.1: for a bearer scheme the list names what the token must be allowed to do.
    const scopes = sessionOnly ? [] : [...requiredScopes(auth)];
    const security: Record<string, string[]>[] = [{ bearerAuth: scopes }, { accessToken: scopes }];
    schema.security = mode === 'optional' ? [{}, ...security] : security;
    responses[401] ??= {
      ...ErrorResponse,
      description: fresh
        ? 'Token missing, invalid, expired or revoked, or not from a recent password login (Fresh login required!)'
        : 'Token missing, invalid, expired or revoked',
    };
    responses[404] ??= { ...ErrorResponse, description: 'Not found' };
    const forbidden = [
      mode === 'admin' ? 'Admin privileges required' : undefined,
      sessionOnly
        ? 'A personal access token cannot do this (SESSION_TOKEN_REQUIRED)'
        : 'The personal access token lacks a scope (INSUFFICIENT_SCOPE)',
    ].filter(Boolean);
    // A route's own 403 (not the owner, say) keeps its text; these are added to it.
    const own = (responses[403] as { description?: string } | undefined)?.description;
    responses[403] = { ...ErrorResponse, description: [own, ...forbidden].filter(Boolean).join('; ') };
    const note = sessionOnly
      ? 'Needs the access token of a password login; personal access tokens are refused.'
      : `Personal access tokens need the scope${scopes.length > 1 ? 's' : ''} ${scopes.map((s) => `\`${s}\``).join(', ')}.`;
    schema.description = schema.description ? `${schema.description}\n\n${note}` : note;
  }
  schema.response = responses;
  route.schema = schema;
}
