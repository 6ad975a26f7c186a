import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyRequest,
  onRequestHookHandler,
  RouteOptions,
} from 'fastify';
import type { Clock } from '../clock.js';
import type { HotPath, Versions } from '../db/hot-path.js';
import { errors } from '../errors.js';
import { ErrorResponse } from '../http/schemas.js';
import type { AuthLookup } from '../sessions/repository.js';
import type { AuthUser } from '../users/user.js';
import type { AuthCache } from './auth-cache.js';
import { authOf } from './decorators.js';
import type { RouteAuth } from './requirement.js';
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
    const key = `${auth.mode}:${auth.fresh}`;
    let hook = hooks.get(key);
    if (!hook) {
      hook = authenticator(deps, auth);
      hooks.set(key, hook);
    }
    return hook;
  };

  app.addHook('onRoute', function (this: FastifyInstance, route) {
    if (this.hasDecorator(PUBLIC_CONTEXT)) return documentAuth(route, { mode: 'public', fresh: false });
    const auth = authOf(route.handler);
    if (!auth) {
      throw new Error(
        `${String(route.method)} ${route.url} has no auth decorator: wrap its handler in ` +
          'tokenRequired, adminRequired or optionalToken, or mark it publicRoute',
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
  const { mode, fresh } = auth;
  return function authenticate(req, _reply, done) {
    let claims: AccessClaims;
    let versions: ReturnType<HotPath['versions']>;
    try {
      const token = readToken(req);
      if (token === undefined) {
        if (mode === 'optional') return done();
        throw errors.tokenMissing();
      }
      claims = deps.tokens.verify(token);
      // Read now, after the request arrived, and before any cached row is used.
      versions = deps.hot?.versions();
    } catch (error) {
      return done(error as Error);
    }
    if (versions instanceof Promise) versions.then((read) => lookUp(req, claims, read, done), done);
    else lookUp(req, claims, versions, done);
  };

  // Plain functions, not closures: the synchronous path allocates nothing of its own.
  function lookUp(
    req: FastifyRequest,
    claims: AccessClaims,
    versions: Versions | undefined,
    done: Done,
  ): void {
    let found: ReturnType<AuthCache['lookup']>;
    try {
      if (versions !== undefined) req.dataVersions = versions;
      found = deps.auth.lookup(claims.sub, claims.sid, deps.clock.now(), versions);
    } catch (error) {
      done(error as Error);
      return;
    }
    if (found instanceof Promise) found.then((result) => admit(req, claims, result, done), done);
    else admit(req, claims, found, done);
  }

  function admit(req: FastifyRequest, claims: AccessClaims, found: AuthLookup, done: Done): void {
    try {
      if (found.kind === 'no-user') throw errors.userNotFound();
      if (found.kind !== 'ok') throw errors.tokenRevoked();
      if (mode === 'admin' && !found.user.admin) throw errors.adminRequired();
      if (fresh && !(claims.fresh && deps.clock.now() / 1000 - claims.iat <= deps.freshTokenTtl))
        throw errors.freshLoginRequired();
    } catch (error) {
      done(error as Error);
      return;
    }
    req.user = found.user;
    done();
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

const SECURITY: Record<string, string[]>[] = [{ bearerAuth: [] }, { accessToken: [] }];

/** Every route's OpenAPI entry states its auth requirement and the errors that come with it. */
function documentAuth(route: RouteOptions, { mode, fresh }: RouteAuth): void {
  const schema = { ...route.schema };
  const responses = { ...(schema.response as Record<string, unknown> | undefined) };
  if (mode === 'public') {
    schema.security = [];
  } else {
    schema.security = mode === 'optional' ? [{}, ...SECURITY] : SECURITY;
    responses[401] ??= {
      ...ErrorResponse,
      description: fresh
        ? 'Token missing, invalid, expired or revoked, or not from a recent password login (Fresh login required!)'
        : 'Token missing, invalid, expired or revoked',
    };
    responses[404] ??= { ...ErrorResponse, description: 'Not found' };
    if (mode === 'admin') responses[403] ??= { ...ErrorResponse, description: 'Admin privileges required' };
  }
  schema.response = responses;
  route.schema = schema;
}
