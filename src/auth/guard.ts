import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyRequest,
  onRequestAsyncHookHandler,
  RouteOptions,
} from 'fastify';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { errors } from '../errors.js';
import { ErrorResponse } from '../http/schemas.js';
import { lookupAuth } from '../sessions/repository.js';
import type { AuthUser } from '../users/user.js';
import { authOf } from './decorators.js';
import type { RouteAuth } from './requirement.js';
import type { Tokens } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the guard before the body is read; null on public routes and anonymous optional ones. */
    user: AuthUser | null;
  }
  interface FastifyContextConfig {
    /** The route's auth requirement, as recorded by its decorator. */
    auth?: RouteAuth;
  }
}

export interface GuardDeps {
  db: Db;
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
  const hooks = new Map<string, onRequestAsyncHookHandler>();
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

function authenticator(deps: GuardDeps, auth: RouteAuth): onRequestAsyncHookHandler {
  const { mode, fresh } = auth;
  return async function authenticate(req) {
    const token = readToken(req);
    if (token === undefined) {
      if (mode === 'optional') return;
      throw errors.tokenMissing();
    }
    const claims = deps.tokens.verify(token);
    const now = deps.clock.now();
    const found = await lookupAuth(deps.db, claims.sub, claims.sid, now);
    if (found.kind === 'no-user') throw errors.userNotFound();
    if (found.kind !== 'ok') throw errors.tokenRevoked();
    if (mode === 'admin' && !found.user.admin) throw errors.adminRequired();
    if (fresh && !(claims.fresh && now / 1000 - claims.iat <= deps.freshTokenTtl))
      throw errors.freshLoginRequired();
    req.user = found.user;
  };
}

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
