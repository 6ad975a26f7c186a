import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  adminRequired,
  authOf,
  optionalToken,
  publicRoute,
  scope,
  tokenRequired,
} from '../../src/auth/decorators.js';
import { mountRoutes, route } from '../../src/http/route.js';
import type { AuthUser } from '../../src/users/user.js';
import { body, build, makeAdmin, signupAndLogin, type TestApp } from '../helpers.js';

/** A route class as a user of the decorators would write it. */
class Probe {
  calls: string[] = [];

  @route({ method: 'GET', url: '/probe/token', schema: {} })
  @scope('books:read')
  @tokenRequired
  async token(user: AuthUser) {
    this.calls.push('token');
    return { who: user.username, admin: user.admin };
  }

  @route({ method: 'GET', url: '/probe/admin', schema: {} })
  @adminRequired
  @tokenRequired
  async admin(user: AuthUser) {
    this.calls.push('admin');
    return { who: user.username };
  }

  @route({ method: 'GET', url: '/probe/optional', schema: {} })
  @scope('books:read')
  @optionalToken
  async optional(user: AuthUser | null) {
    return { who: user?.username ?? null };
  }

  @route({ method: 'POST', url: '/probe/public', schema: {} })
  @publicRoute
  async open(req: FastifyRequest, reply: FastifyReply) {
    this.calls.push('public');
    return reply.code(202).send({ body: req.body ?? null });
  }

  @route({ method: 'POST', url: '/probe/upload', schema: {} })
  @scope('books:write')
  @tokenRequired
  async upload(_user: AuthUser, req: FastifyRequest) {
    this.calls.push('upload');
    return { size: JSON.stringify(req.body).length };
  }
}

async function withProbe(t: Parameters<typeof build>[0], before?: (app: TestApp['app']) => void) {
  const ctx = await build(t);
  before?.(ctx.app);
  const probe = new Probe();
  mountRoutes(ctx.app, probe);
  const user = await signupAndLogin(ctx.app, 'alice');
  return { ...ctx, probe, user };
}

test('@tokenRequired hands the authenticated user to the method, with this bound to the instance', async (t) => {
  const { app, probe, user } = await withProbe(t);
  const res = await app.inject({ method: 'GET', url: '/probe/token', headers: user.headers });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(body(res), { who: 'alice', admin: false });
  assert.deepEqual(probe.calls, ['token']);
});

test('a refused request never runs the handler', async (t) => {
  const { app, probe } = await withProbe(t);
  const res = await app.inject({
    method: 'GET',
    url: '/probe/token',
    headers: { 'x-access-token': 'x.y.z' },
  });
  assert.equal(res.statusCode, 401);
  assert.deepEqual(probe.calls, []);
});

test('stacked @adminRequired @tokenRequired: 403 for a user, 200 for an admin, 401 without a token', async (t) => {
  const { app, db, probe, user } = await withProbe(t);
  assert.deepEqual(authOf(Probe.prototype.admin), {
    mode: 'admin',
    fresh: false,
    sessionOnly: false,
    scopes: [],
  });
  const refused = await app.inject({ method: 'GET', url: '/probe/admin', headers: user.headers });
  assert.equal(refused.statusCode, 403);
  assert.deepEqual(body(refused), { message: 'Admin privileges required!', code: 'ADMIN_REQUIRED' });
  assert.equal((await app.inject({ method: 'GET', url: '/probe/admin' })).statusCode, 401);
  await makeAdmin(db, 'alice');
  const allowed = await app.inject({ method: 'GET', url: '/probe/admin', headers: user.headers });
  assert.equal(allowed.statusCode, 200);
  assert.deepEqual(probe.calls, ['admin']);
});

test('@optionalToken gives null without a token, the user with one, and 401 for a bad one', async (t) => {
  const { app, user } = await withProbe(t);
  assert.deepEqual(body(await app.inject({ method: 'GET', url: '/probe/optional' })), { who: null });
  assert.deepEqual(body(await app.inject({ method: 'GET', url: '/probe/optional', headers: user.headers })), {
    who: 'alice',
  });
  const bad = await app.inject({
    method: 'GET',
    url: '/probe/optional',
    headers: { 'x-access-token': 'bad' },
  });
  assert.equal(bad.statusCode, 401);
});

test('@publicRoute keeps the (req, reply) signature and needs no token', async (t) => {
  const { app, probe } = await withProbe(t);
  const res = await app.inject({ method: 'POST', url: '/probe/public', payload: { a: 1 } });
  assert.equal(res.statusCode, 202);
  assert.deepEqual(body(res), { body: { a: 1 } });
  assert.deepEqual(probe.calls, ['public']);
});

test('authentication runs before the body is read: bad or huge bodies without a token get 401', async (t) => {
  let parsed = 0;
  const { app, probe } = await withProbe(t, (app) =>
    app.addContentTypeParser('application/x-probe', { parseAs: 'string' }, (_req, text, done) => {
      parsed++;
      done(null, text);
    }),
  );
  const cases = [
    { 'content-type': 'application/json', payload: '{"not json' },
    { 'content-type': 'application/json', payload: `{"a":"${'x'.repeat(200 * 1024)}"}` },
    { 'content-type': 'text/plain', payload: 'hello' },
    { 'content-type': 'application/x-probe', payload: 'parse me' },
  ];
  for (const { payload, ...headers } of cases) {
    const res = await app.inject({ method: 'POST', url: '/probe/upload', headers, payload });
    assert.equal(res.statusCode, 401, headers['content-type']);
    assert.equal(body(res).message, 'A valid token is missing!');
  }
  assert.equal(parsed, 0, 'no body parser ran');
  assert.deepEqual(probe.calls, []);
});

test('plain handler functions are wrapped the same way, and stack', async (t) => {
  const { app, db } = await build(t);
  const seen: string[] = [];
  app.get('/plain/token', scope('books:read')(tokenRequired(async (user) => ({ who: user.username }))));
  app.get(
    '/plain/admin',
    adminRequired(
      tokenRequired(async (user, req) => {
        seen.push(req.url);
        return { who: user.username };
      }),
    ),
  );
  app.get(
    '/plain/public',
    publicRoute(async () => ({ ok: true })),
  );
  const bob = await signupAndLogin(app, 'bob');
  assert.deepEqual(body(await app.inject({ method: 'GET', url: '/plain/token', headers: bob.headers })), {
    who: 'bob',
  });
  assert.equal((await app.inject({ method: 'GET', url: '/plain/token' })).statusCode, 401);
  assert.equal(
    (await app.inject({ method: 'GET', url: '/plain/admin', headers: bob.headers })).statusCode,
    403,
  );
  await makeAdmin(db, 'bob');
  assert.equal(
    (await app.inject({ method: 'GET', url: '/plain/admin', headers: bob.headers })).statusCode,
    200,
  );
  assert.deepEqual(seen, ['/plain/admin']);
  assert.deepEqual(body(await app.inject({ method: 'GET', url: '/plain/public' })), { ok: true });
});

test('deny by default: a route without a decorator stops the start-up with a clear error', async (t) => {
  const { app } = await build(t);
  assert.throws(
    () => app.get('/forgotten', async () => ({ secret: true })),
    /GET \/forgotten has no auth decorator/,
  );
  assert.throws(
    () => app.route({ method: 'POST', url: '/forgotten', handler: async () => ({}) }),
    /POST \/forgotten has no auth decorator/,
  );
});

test('deny by default: a route class method with @route but no auth decorator is refused at mount', async (t) => {
  const { app } = await build(t);
  class Careless {
    @route({ method: 'GET', url: '/careless', schema: {} })
    async open() {
      return {};
    }
  }
  assert.throws(
    () => mountRoutes(app, new Careless()),
    /Careless\.open \(GET \/careless\) has no auth decorator/,
  );
});

test('contradictory stacks fail when the class is defined', () => {
  assert.throws(() => {
    class _Contradiction {
      // @ts-expect-error the types already refuse it: public handlers take no user
      @publicRoute
      @tokenRequired
      async both(_user: AuthUser) {}
    }
  }, /@publicRoute cannot be combined with @tokenRequired/);
  assert.throws(() => {
    class _Contradiction {
      // @ts-expect-error the types already refuse it: optionalToken hands null, adminRequired an admin
      @optionalToken
      @adminRequired
      async both(_user: AuthUser & { admin: true }) {}
    }
  }, /@optionalToken cannot be combined with @adminRequired/);
  assert.throws(() => publicRoute(tokenRequired(async () => {})), /@publicRoute cannot be combined/);
});
