import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  ContextConfigDefault,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchema,
  HTTPMethods,
  preValidationHookHandler,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
} from 'fastify';
import { authOf, publicRoute, userHandler } from '../auth/decorators.js';
import { describeAuth } from '../auth/requirement.js';
import type { LogLevel } from '../config.js';
import type { ApiError } from '../errors.js';

/** The request a handler sees for a route schema: body, params and query typed from TypeBox. */
export type Req<S extends FastifySchema = FastifySchema> = FastifyRequest<
  RouteGenericInterface,
  RawServerDefault,
  RawRequestDefaultExpression,
  S,
  TypeBoxTypeProvider
>;

/** The reply for a route schema: `reply.code(201).send(x)` is checked against that response. */
export type Reply<S extends FastifySchema = FastifySchema> = FastifyReply<
  RouteGenericInterface,
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  ContextConfigDefault,
  S,
  TypeBoxTypeProvider
>;

export interface RouteSpec {
  method: HTTPMethods;
  url: string;
  schema: FastifySchema;
  /** The error for a request that fails validation, instead of the generic 400 (the original's "Invalid input!"). */
  invalidInput?: () => ApiError;
  /** The route's own log level: probes polled every few seconds log nothing at info. */
  logLevel?: LogLevel;
  /** Runs after the auth guard and the body parser, before validation (the refresh cookie fills the body). */
  preValidation?: preValidationHookHandler;
  /** When a route that takes a body may get an empty one (the refresh cookie stands in for it). */
  emptyBody?: (req: FastifyRequest) => boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: the decorator accepts any route method; its auth decorator types the user
type Method = (this: any, ...args: any[]) => unknown;

const routes = new WeakMap<Method, RouteSpec>();

/**
 * Declares the HTTP route a method serves. Stack it above an auth decorator:
 *
 *   @route({ method: 'GET', url: '/bookapi/books', schema: ListBooks })
 *   @tokenRequired
 *   async list(user: AuthUser, req: Req<typeof ListBooks>) { … }
 */
export function route(spec: RouteSpec) {
  return (method: Method, context: ClassMethodDecoratorContext): void => {
    if (context.kind !== 'method' || context.static) {
      throw new TypeError(`@route decorates instance methods only, not ${String(context.name)}`);
    }
    routes.set(method, spec);
  };
}

/**
 * Registers every @route method of a route-class instance. A method without
 * an auth decorator stops the start-up here, with the class and method named.
 */
export function mountRoutes(app: FastifyInstance, controller: object): void {
  const prototype = Object.getPrototypeOf(controller) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const method = prototype[name];
    if (typeof method !== 'function') continue;
    const spec = routes.get(method as Method);
    if (!spec) continue;
    const where = `${controller.constructor.name}.${name} (${spec.method} ${spec.url})`;
    const auth = authOf(method as Method, { method: true });
    if (!auth) {
      throw new Error(
        `${where} has no auth decorator: add @tokenRequired, @adminRequired, @optionalToken or @publicRoute`,
      );
    }
    const bound = (method as Method).bind(controller);
    const handler =
      auth.mode === 'public'
        ? publicHandler(bound)
        : userHandler(bound as Parameters<typeof userHandler>[0], auth);
    app.route({
      method: spec.method,
      url: spec.url,
      schema: spec.schema,
      config: { invalidInput: spec.invalidInput, route: where, emptyBody: spec.emptyBody },
      ...(spec.logLevel ? { logLevel: spec.logLevel } : {}),
      ...(spec.preValidation ? { preValidation: spec.preValidation } : {}),
      handler,
    });
    app.log.debug({ route: where, auth: describeAuth(auth) }, 'route mounted');
  }
}

function publicHandler(bound: Method) {
  return publicRoute((req: FastifyRequest, reply: FastifyReply) => bound(req, reply));
}

declare module 'fastify' {
  interface FastifyContextConfig {
    invalidInput?: RouteSpec['invalidInput'];
    /** Class and method that serve the route, for logs and errors. */
    route?: string;
    emptyBody?: RouteSpec['emptyBody'];
  }
}
