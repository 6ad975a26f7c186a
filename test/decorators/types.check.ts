// Type-level tests for the decorators: `tsc --noEmit` (part of `npm test`)
// fails if any line marked @ts-expect-error stops being an error, or if any
// other line is one.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  adminRequired,
  optionalToken,
  publicRoute,
  scope,
  sessionTokenRequired,
  tokenRequired,
} from '../../src/auth/decorators.js';
import type { Req } from '../../src/http/route.js';
import type { AdminUser, AuthUser } from '../../src/users/user.js';

const BookSchema = {
  body: Type.Object({ title: Type.String(), pages: Type.Optional(Type.Integer()) }),
} as const;

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(_: T) => {};

export class Typed {
  @tokenRequired
  async user(user: AuthUser, req: FastifyRequest, reply: FastifyReply) {
    assertType<Equals<typeof user.id, number>>(true);
    return reply.send({ id: user.id, url: req.url });
  }

  @tokenRequired
  async withSchema(_user: AuthUser, req: Req<typeof BookSchema>) {
    // The body's type comes from the TypeBox schema, the same one that validates it.
    assertType<Equals<typeof req.body, { title: string; pages?: number }>>(true);
    return req.body.title;
  }

  @adminRequired
  async admin(user: AdminUser) {
    const flag: true = user.admin;
    return flag;
  }

  @optionalToken
  async maybe(user: AuthUser | null) {
    return user?.username ?? null;
  }

  @publicRoute
  async open(req: FastifyRequest, reply: FastifyReply) {
    return reply.send(req.id);
  }

  // @ts-expect-error tokenRequired does not promise an admin
  @tokenRequired
  async notAnAdmin(_user: AdminUser) {}

  // @ts-expect-error optionalToken may hand null
  @optionalToken
  async notNull(_user: AuthUser) {}

  // @ts-expect-error the user is an AuthUser, not a string
  @tokenRequired
  async wrongUser(_user: string) {}

  // @ts-expect-error the second argument is the request
  @tokenRequired
  async wrongRequest(_user: AuthUser, _req: number) {}

  // @ts-expect-error public handlers receive (req, reply): there is no user
  @publicRoute
  async publicWithUser(_user: AuthUser, _req: FastifyRequest) {}
}

// Plain functions: the user's type is inferred.
export const plain = tokenRequired(async (user) => {
  assertType<Equals<typeof user, AuthUser>>(true);
  // @ts-expect-error the password hash never reaches a handler
  return user.password_hash;
});

export const plainAdmin = adminRequired(async (user) => {
  assertType<Equals<typeof user, AdminUser>>(true);
});

export const plainOptional = optionalToken(async (user) => {
  assertType<Equals<typeof user, AuthUser | null>>(true);
});

// Stacking plain wrappers keeps a Fastify handler.
export const stacked: (req: FastifyRequest, reply: FastifyReply) => unknown = adminRequired(
  tokenRequired(async (user) => user.id),
);

/** Scopes are a closed list: a misspelt one does not compile, on a method or around a handler. */
export class ScopedRoutes {
  @scope('books:read', 'account:read')
  @tokenRequired
  async ok(user: AuthUser) {
    return user.scopes.has('books:read');
  }

  // @ts-expect-error 'books:wrte' is not a scope
  @scope('books:wrte')
  @tokenRequired
  async typo(_user: AuthUser) {}

  @sessionTokenRequired
  async sessionOnly(user: AuthUser) {
    return user.sessionId;
  }

  // @ts-expect-error a scoped route receives the user first, not Fastify's request
  @scope('books:read')
  async notAUser(_req: FastifyRequest, _reply: FastifyReply) {}
}
// Inside the auth decorator too, the user is typed.
export const scopedInside = tokenRequired(scope('books:read')(async (user: AuthUser) => user.publicId));
// @ts-expect-error no scope list is empty
export const noScopes = scope()(tokenRequired(async () => null));
// The wrapped handler keeps its type: the user is still an AuthUser.
export const scopedPlain = scope('books:write')(tokenRequired(async (user) => user.publicId));
