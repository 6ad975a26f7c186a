import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminUser, AuthUser } from '../users/user.js';
import { describe, mergeRequirement, type Requirement, type RouteAuth } from './requirement.js';

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
export function authOf(fn: AnyFunction): RouteAuth | undefined {
  return requirements.get(fn);
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
  return userHandler(inner ?? (target as UserHandler<never>), auth);
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
