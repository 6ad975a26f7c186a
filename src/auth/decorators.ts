import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminUser, AuthUser } from '../users/user.js';
import { describe, mergeRequirement, type Requirement, type RouteAuth, withScopes } from './requirement.js';
import type { Scope } from './scopes.js';

/*
 * The authentication decorators. Each one works two ways:
 *
 *   class BookRoutes {
 *     @tokenRequired
 *     async list(user: AuthUser, req: FastifyRequest, reply: FastifyReply) { … }
 *   }
 *
 *   app.get('/me', { handler: tokenRequired(async (user, req, reply) => user) })
 *
 * They only *record* what a handler needs. The check itself runs in one
 * place, an onRequest hook (see guard.ts), before the body is read; the
 * recorded user is then passed to the handler as its first argument.
 * Node 20 has no Symbol.metadata, so the record lives in a WeakMap keyed by
 * the function.
 */

// biome-ignore lint/suspicious/noExplicitAny: handler types are checked at each use site
type AnyFunction = (...args: any[]) => unknown;
/** Any Fastify request, whatever its route's schema: the second argument must be one. */
// biome-ignore lint/suspicious/noExplicitAny: the generics are the route's; any request fits here
type AnyRequest = FastifyRequest<any, any, any, any, any, any, any, any>;
// biome-ignore lint/suspicious/noExplicitAny: as above, for replies
type AnyReply = FastifyReply<any, any, any, any, any, any, any, any>;

const requirements = new WeakMap<AnyFunction, RouteAuth>();
/** Scopes recorded by `@scope`, kept apart so they stack in any order with the other decorators. */
const declaredScopes = new WeakMap<AnyFunction, readonly Scope[]>();
/** Wrapped plain handler → the (user, req, reply) function it calls. */
const wrapped = new WeakMap<AnyFunction, UserHandler<never>>();

type UserHandler<U, Rq = FastifyRequest, Rp = FastifyReply, R = unknown> = (user: U, req: Rq, reply: Rp) => R;

declare const guarded: unique symbol;
/** A Fastify handler produced by one of the decorators. */
export type GuardedHandler<Rq = FastifyRequest, Rp = FastifyReply, R = unknown> = ((
  req: Rq,
  reply: Rp,
) => R) & { readonly [guarded]: true };

/** What a handler or route method needs, or undefined when it declares nothing. */
export function authOf(fn: AnyFunction, options: { method?: boolean } = {}): RouteAuth | undefined {
  const auth = requirements.get(fn);
  const scopes = declaredScopes.get(fn);
  if (scopes === undefined) return auth;
  // On a route method `@scope` alone implies `@tokenRequired` (mountRoutes builds the handler);
  // a plain function must still be wrapped by an auth decorator to receive its user.
  if (auth === undefined && !options.method) return undefined;
  return withScopes(auth, scopes, fn.name ? `handler ${fn.name}` : 'a handler');
}

function record(fn: AnyFunction, mode: Requirement, where: string): RouteAuth {
  const auth = mergeRequirement(requirements.get(fn), mode, where);
  requirements.set(fn, auth);
  return auth;
}

/** Builds the Fastify handler that hands `request.user` to a (user, req, reply) function. */
export function userHandler(inner: UserHandler<never>, auth: RouteAuth): GuardedHandler {
  const handler = function (this: unknown, req: FastifyRequest, reply: FastifyReply) {
    return (inner as UserHandler<AuthUser | null>).call(this, req.user, req, reply);
  };
  requirements.set(handler, auth);
  wrapped.set(handler, inner);
  return handler as GuardedHandler;
}

function decorate(mode: Requirement, target: AnyFunction, context?: unknown): AnyFunction | undefined {
  if (context !== undefined) {
    const ctx = context as DecoratorContext;
    if (ctx.kind !== 'method' || ctx.static) {
      throw new TypeError(`${describe(mode)} decorates route methods only, not ${String(ctx.name)}`);
    }
    // Record on the method itself; mountRoutes() builds its handler.
    record(target, mode, `method ${String(ctx.name)}`);
    return undefined;
  }
  if (typeof target !== 'function') {
    throw new TypeError(`${describe(mode).slice(1)}() wraps a handler function`);
  }
  const where = target.name ? `handler ${target.name}` : 'a handler';
  const inner = wrapped.get(target);
  if (mode === 'public') {
    record(target, mode, where); // throws if the handler already requires a token
    return target;
  }
  // Wrapping an already-wrapped handler stacks the requirements, like Python decorators.
  const auth = mergeRequirement(requirements.get(target), mode, where);
  const handler = userHandler(inner ?? (target as UserHandler<never>), auth);
  const scopes = declaredScopes.get(target);
  if (scopes !== undefined) declaredScopes.set(handler, scopes);
  return handler;
}

/** Requires a valid token for a live user; the handler receives that user. */
export function tokenRequired<This, Rq extends AnyRequest, Rp extends AnyReply, R>(
  method: (this: This, user: AuthUser, req: Rq, reply: Rp) => R,
  context: ClassMethodDecoratorContext<This, (this: This, user: AuthUser, req: Rq, reply: Rp) => R>,
): void;
export function tokenRequired<Rq, Rp, R>(handler: GuardedHandler<Rq, Rp, R>): GuardedHandler<Rq, Rp, R>;
export function tokenRequired<
  Rq extends AnyRequest = FastifyRequest,
  Rp extends AnyReply = FastifyReply,
  R = unknown,
>(handler: UserHandler<AuthUser, Rq, Rp, R>): GuardedHandler<Rq, Rp, R>;
export function tokenRequired(target: AnyFunction, context?: unknown): unknown {
  return decorate('token', target, context);
}

/** Requires a valid token for a user whose admin flag is set (read from the database per request). */
export function adminRequired<This, Rq extends AnyRequest, Rp extends AnyReply, R>(
  method: (this: This, user: AdminUser, req: Rq, reply: Rp) => R,
  context: ClassMethodDecoratorContext<This, (this: This, user: AdminUser, req: Rq, reply: Rp) => R>,
): void;
export function adminRequired<Rq, Rp, R>(handler: GuardedHandler<Rq, Rp, R>): GuardedHandler<Rq, Rp, R>;
export function adminRequired<
  Rq extends AnyRequest = FastifyRequest,
  Rp extends AnyReply = FastifyReply,
  R = unknown,
>(handler: UserHandler<AdminUser, Rq, Rp, R>): GuardedHandler<Rq, Rp, R>;
export function adminRequired(target: AnyFunction, context?: unknown): unknown {
  return decorate('admin', target, context);
}

/**
 * The user when a valid token is sent, `null` when none is. A token that is
 * sent but bad is still refused: a client should learn its token is wrong.
 */
export function optionalToken<This, Rq extends AnyRequest, Rp extends AnyReply, R>(
  method: (this: This, user: AuthUser | null, req: Rq, reply: Rp) => R,
  context: ClassMethodDecoratorContext<This, (this: This, user: AuthUser | null, req: Rq, reply: Rp) => R>,
): void;
export function optionalToken<
  Rq extends AnyRequest = FastifyRequest,
  Rp extends AnyReply = FastifyReply,
  R = unknown,
>(handler: UserHandler<AuthUser | null, Rq, Rp, R>): GuardedHandler<Rq, Rp, R>;
export function optionalToken(target: AnyFunction, context?: unknown): unknown {
  return decorate('optional', target, context);
}

/** Marks a handler as deliberately open to anyone. It keeps Fastify's (req, reply) signature. */
export function publicRoute<This, Rq extends AnyRequest, Rp extends AnyReply, R>(
  method: (this: This, req: Rq, reply: Rp) => R,
  context: ClassMethodDecoratorContext<This, (this: This, req: Rq, reply: Rp) => R>,
): void;
export function publicRoute<
  Rq extends AnyRequest = FastifyRequest,
  Rp extends AnyReply = FastifyReply,
  R = unknown,
>(handler: (req: Rq, reply: Rp) => R): GuardedHandler<Rq, Rp, R>;
export function publicRoute(target: AnyFunction, context?: unknown): unknown {
  return decorate('public', target, context);
}

/**
 * Requires a token issued by a password login within FRESH_TOKEN_TTL (10
 * minutes by default): a refreshed token is not fresh. For password changes,
 * account deletion and admin actions. Stacks on `adminRequired`, keeping its
 * user type; alone it implies `tokenRequired`.
 */
export function freshTokenRequired<This, U extends AuthUser, Rq extends AnyRequest, Rp extends AnyReply, R>(
  method: (this: This, user: U, req: Rq, reply: Rp) => R,
  context: ClassMethodDecoratorContext<This, (this: This, user: U, req: Rq, reply: Rp) => R>,
): void;
export function freshTokenRequired<Rq, Rp, R>(handler: GuardedHandler<Rq, Rp, R>): GuardedHandler<Rq, Rp, R>;
export function freshTokenRequired<
  Rq extends AnyRequest = FastifyRequest,
  Rp extends AnyReply = FastifyReply,
  R = unknown,
>(handler: UserHandler<AuthUser, Rq, Rp, R>): GuardedHandler<Rq, Rp, R>;
export function freshTokenRequired(target: AnyFunction, context?: unknown): unknown {
  return decorate('fresh', target, context);
}

/**
 * Only a session's access token: never a personal access token, whatever its
 * scopes. For managing sessions and tokens and for logging out (a password
 * change and account deletion already need a fresh login, which no personal
 * access token is). Stacks like `freshTokenRequired`; alone it implies
 * `tokenRequired`.
 */
export function sessionTokenRequired<This, U extends AuthUser, Rq extends AnyRequest, Rp extends AnyReply, R>(
  method: (this: This, user: U, req: Rq, reply: Rp) => R,
  context: ClassMethodDecoratorContext<This, (this: This, user: U, req: Rq, reply: Rp) => R>,
): void;
export function sessionTokenRequired<Rq, Rp, R>(
  handler: GuardedHandler<Rq, Rp, R>,
): GuardedHandler<Rq, Rp, R>;
export function sessionTokenRequired<
  Rq extends AnyRequest = FastifyRequest,
  Rp extends AnyReply = FastifyReply,
  R = unknown,
>(handler: UserHandler<AuthUser, Rq, Rp, R>): GuardedHandler<Rq, Rp, R>;
export function sessionTokenRequired(target: AnyFunction, context?: unknown): unknown {
  return decorate('session', target, context);
}

/** What `scope(...)` returns: a method decorator, or a wrapper that returns the handler it is given. */
export interface ScopeDecorator {
  /** A route method: it takes the user first (a `(req, reply)` method is a public route's, and has no scope). */
  <This, U extends AuthUser | null, Rq extends AnyRequest, Rp extends AnyReply, R>(
    method: (this: This, user: U, req: Rq, reply: Rp) => R,
    context: ClassMethodDecoratorContext<This, (this: This, user: U, req: Rq, reply: Rp) => R>,
  ): void;
  /** Around a handler made by tokenRequired, adminRequired or optionalToken. */
  <Rq, Rp, R>(handler: GuardedHandler<Rq, Rp, R>): GuardedHandler<Rq, Rp, R>;
  /** Inside one of them: a (user, req, reply) function, which they then wrap. */
  <
    U extends AuthUser | null,
    Rq extends AnyRequest = FastifyRequest,
    Rp extends AnyReply = FastifyReply,
    R = unknown,
  >(
    handler: UserHandler<U, Rq, Rp, R>,
  ): UserHandler<U, Rq, Rp, R>;
}

/**
 * The scopes a personal access token needs for this route (a session's token
 * holds all its user's): `@scope('books:write')` above `@tokenRequired`, or
 * `scope('books:read')(tokenRequired(handler))`. Several stack (all are
 * needed); alone it implies `tokenRequired`. With personal access tokens on,
 * a route that declares no scope (and is not session-only or admin) stops the
 * start-up: deny by default.
 */
export function scope(...scopes: [Scope, ...Scope[]]): ScopeDecorator {
  return ((target: AnyFunction, context?: unknown) => {
    if (context !== undefined) {
      const ctx = context as DecoratorContext;
      if (ctx.kind !== 'method' || ctx.static)
        throw new TypeError(`@scope decorates route methods only, not ${String(ctx.name)}`);
    } else if (typeof target !== 'function') {
      throw new TypeError('scope() wraps a handler function');
    }
    declaredScopes.set(target, [...new Set([...(declaredScopes.get(target) ?? []), ...scopes])]);
    return context === undefined ? target : undefined;
  }) as ScopeDecorator;
}
