// Personal access tokens: created once with a fresh login, used like an access token within
// their scopes, refused where a session is needed, and ended at once by revocation, expiry, a
// disabled or deleted owner, or a demotion.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { publicRoute, scope, sessionTokenRequired, tokenRequired } from '../../src/auth/decorators.js';
import { body, build, loginPair, makeAdmin, type Pair } from '../helpers.js';

interface Created {
  id: string;
  token: string;
  name: string;
  scopes: string[];
  prefix: string;
  expires_at: string;
  last_used_at: string | null;
}

async function createToken(
  app: FastifyInstance,
  owner: Pair,
  payload: Record<string, unknown>,
): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/me/tokens', headers: owner.headers, payload });
}

async function made(app: FastifyInstance, owner: Pair, scopes: string[], extra = {}): Promise<Created> {
  const res = await createToken(app, owner, { name: `script ${scopes.join('+')}`, scopes, ...extra });
  assert.equal(res.statusCode, 201, res.body);
  return body<Created>(res) as unknown as Created;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const get = (app: FastifyInstance, url: string, headers: Record<string, string>) =>
  app.inject({ method: 'GET', url, headers });

test('a token is shown once, bkp_ and 256 bits, stored only as a hash, and listed without it', async (t) => {
  const { app, db } = await build(t);
  const alice = await loginPair(app, 'alice');
  const res = await createToken(app, alice, { name: 'backup script', scopes: ['books:read'] });
  assert.equal(res.statusCode, 201);
  assert.equal(res.headers['cache-control'], 'no-store');
  const created = body<Created>(res) as unknown as Created;
  assert.match(created.token, /^bkp_[A-Za-z0-9_-]{43}$/);
  assert.equal(Buffer.from(created.token.slice(4), 'base64url').length, 32);
  assert.ok(created.token.startsWith(created.prefix));
  assert.deepEqual(created.scopes, ['books:read']);
  // 30 days by default.
  assert.equal(Date.parse(created.expires_at) - Date.now() > 29 * 86_400_000 - 1e12, true);

  const rows = await db.selectFrom('personal_access_tokens').selectAll().execute();
  assert.equal(rows.length, 1);
  assert.equal(JSON.stringify(rows).includes(created.token.slice(4)), false, 'the token itself is stored');

  const list = body<{ tokens: Record<string, unknown>[] }>(await get(app, '/me/tokens', alice.headers));
  assert.equal(list.tokens.length, 1);
  assert.equal(list.tokens[0]?.name, 'backup script');
  assert.equal(JSON.stringify(list).includes(created.token), false, 'the list shows the token again');
});

test('creating needs a fresh password login, valid input and, for the admin scope, an admin', async (t) => {
  const { app, db, clock } = await build(t);
  const alice = await loginPair(app, 'alice');
  for (const payload of [
    {},
    { name: 'x' },
    { name: 'x', scopes: [] },
    { name: 'x', scopes: ['books:delete'] },
    { name: 'x', scopes: ['books:read', 'books:read'] },
    { name: '', scopes: ['books:read'] },
    { name: '   ', scopes: ['books:read'] },
    { name: 'x'.repeat(101), scopes: ['books:read'] },
    { name: 'x', scopes: ['books:read'], expires_in: 10 },
    { name: 'x', scopes: ['books:read'], expires_in: 400 * 86_400 },
    { name: 'x', scopes: ['books:read'], expires_in: '3600' },
    { name: 'x', scopes: 'books:read' },
  ]) {
    const res = await createToken(app, alice, payload);
    assert.equal(res.statusCode, 400, `${JSON.stringify(payload)} → ${res.statusCode} ${res.body}`);
    assert.equal(typeof body(res).message, 'string');
  }
  // A client cannot choose its token: unknown fields are dropped, as everywhere in the API.
  const chosen = await createToken(app, alice, { name: 'x', scopes: ['books:read'], token: 'bkp_mine' });
  assert.equal(chosen.statusCode, 201);
  assert.notEqual(body(chosen).token, 'bkp_mine');
  const admin = await createToken(app, alice, { name: 'x', scopes: ['admin'] });
  assert.equal(admin.statusCode, 403);
  assert.match(String(body(admin).message), /admin/);

  await makeAdmin(db, 'alice');
  assert.equal((await createToken(app, alice, { name: 'ops', scopes: ['admin'] })).statusCode, 201);

  clock.advance(11 * 60);
  const stale = await createToken(app, alice, { name: 'later', scopes: ['books:read'] });
  assert.equal(stale.statusCode, 401);
  assert.equal(body(stale).code, 'FRESH_LOGIN_REQUIRED');
});

test('a token works as Bearer or x-access-token, within its scopes: 403 INSUFFICIENT_SCOPE with the RFC 6750 challenge', async (t) => {
  const { app } = await build(t);
  const alice = await loginPair(app, 'alice');
  const reader = await made(app, alice, ['books:read']);
  const writer = await made(app, alice, ['books:write']);
  const account = await made(app, alice, ['account:read']);

  assert.equal((await get(app, '/bookapi/books', bearer(reader.token))).statusCode, 200);
  assert.equal((await get(app, '/bookapi/books', { 'x-access-token': reader.token })).statusCode, 200);
  const denied = await app.inject({
    method: 'POST',
    url: '/bookapi/books',
    headers: bearer(reader.token),
    payload: { title: 'T', author: 'A' },
  });
  assert.equal(denied.statusCode, 403);
  assert.deepEqual(body(denied), { message: 'Insufficient scope!', code: 'INSUFFICIENT_SCOPE' });
  assert.equal(
    denied.headers['www-authenticate'],
    'Bearer realm="bookapi", error="insufficient_scope", scope="books:write"',
  );
  const created = await app.inject({
    method: 'POST',
    url: '/bookapi/books',
    headers: bearer(writer.token),
    payload: { title: 'Written by a script', author: 'A' },
  });
  assert.equal(created.statusCode, 201);
  assert.equal((await get(app, '/bookapi/books', bearer(writer.token))).statusCode, 403);

  const me = await get(app, '/me', bearer(account.token));
  assert.equal(me.statusCode, 200);
  assert.equal(body(me).username, 'alice');
  assert.equal((await get(app, '/me/activity', bearer(account.token))).statusCode, 200);
  assert.equal((await get(app, '/me', bearer(reader.token))).statusCode, 403);
  assert.equal((await get(app, '/admin/users', bearer(reader.token))).statusCode, 403);
});

test('whatever its scopes, a token cannot change the password, delete the account, make tokens or manage sessions', async (t) => {
  const { app, db } = await build(t);
  const alice = await loginPair(app, 'alice');
  await makeAdmin(db, 'alice');
  const all = await made(app, alice, ['books:read', 'books:write', 'account:read', 'admin']);
  const headers = bearer(all.token);
  const attempts: [string, string, unknown?][] = [
    [
      'PUT',
      '/me/password',
      { current_password: 'testing_p@ssword', new_password: 'another long passphrase' },
    ],
    ['DELETE', '/me', { password: 'testing_p@ssword' }],
    ['POST', '/me/tokens', { name: 'child', scopes: ['books:read'] }],
    ['GET', '/me/tokens'],
    ['DELETE', `/me/tokens/${all.id}`],
    ['GET', '/me/sessions'],
    ['DELETE', '/me/sessions/abc'],
    ['POST', '/logout', {}],
    ['POST', '/logout/all', {}],
  ];
  for (const [method, url, payload] of attempts) {
    const res = await app.inject({ method: method as 'GET', url, headers, payload: payload as object });
    assert.equal(res.statusCode, 403, `${method} ${url} → ${res.statusCode} ${res.body}`);
    assert.equal(body(res).code, 'SESSION_TOKEN_REQUIRED', `${method} ${url}`);
  }
  // Nothing happened: the token still works, the password still logs in, no other token exists.
  assert.equal((await get(app, '/me', headers)).statusCode, 200);
  assert.equal((await db.selectFrom('personal_access_tokens').select('id').execute()).length, 1);
  await loginPair(app, 'alice');
});

test('revocation, expiry, a disabled or deleted owner and a demotion take effect on the next request', async (t) => {
  const { app, db, clock } = await build(t);
  const root = await loginPair(app, 'root');
  await makeAdmin(db, 'root');
  const alice = await loginPair(app, 'alice');
  const a = await made(app, alice, ['books:read']);
  const b = await made(app, alice, ['books:read']);
  const short = await made(app, alice, ['books:read'], { expires_in: 60 });
  for (const token of [a, b, short])
    assert.equal((await get(app, '/bookapi/books', bearer(token.token))).statusCode, 200);

  const revoked = await app.inject({ method: 'DELETE', url: `/me/tokens/${a.id}`, headers: alice.headers });
  assert.equal(revoked.statusCode, 200);
  const after = await get(app, '/bookapi/books', bearer(a.token));
  assert.equal(after.statusCode, 401);
  assert.equal(body(after).code, 'TOKEN_REVOKED');
  assert.equal((await get(app, '/bookapi/books', bearer(b.token))).statusCode, 200, 'only the one revoked');
  // Revoking again, or someone else's token: 404.
  assert.equal(
    (await app.inject({ method: 'DELETE', url: `/me/tokens/${a.id}`, headers: alice.headers })).statusCode,
    404,
  );
  assert.equal(
    (await app.inject({ method: 'DELETE', url: `/me/tokens/${b.id}`, headers: root.headers })).statusCode,
    404,
  );
  assert.equal((await get(app, '/bookapi/books', bearer(b.token))).statusCode, 200);

  clock.advance(61);
  const expired = await get(app, '/bookapi/books', bearer(short.token));
  assert.equal(expired.statusCode, 401);
  assert.equal(body(expired).code, 'TOKEN_EXPIRED');
  const listed = body<{ tokens: { id: string; expired: boolean }[] }>(
    await get(app, '/me/tokens', alice.headers),
  );
  assert.deepEqual(
    listed.tokens.map((x) => [x.id, x.expired]),
    [
      [short.id, true],
      [b.id, false],
    ],
  );

  const rootAgain = await loginPair(app, 'root');
  const alicePublic = (
    await db.selectFrom('users').select('public_id').where('username', '=', 'alice').executeTakeFirstOrThrow()
  ).public_id;
  const disable = (disabled: boolean) =>
    app.inject({
      method: 'PATCH',
      url: `/admin/users/${alicePublic}`,
      headers: rootAgain.headers,
      payload: { disabled },
    });
  assert.equal((await disable(true)).statusCode, 200);
  assert.equal((await get(app, '/bookapi/books', bearer(b.token))).statusCode, 401);
  assert.equal((await disable(false)).statusCode, 200);
  assert.equal(
    (await get(app, '/bookapi/books', bearer(b.token))).statusCode,
    401,
    'a disable revokes the tokens: enabling the account again does not bring them back',
  );

  // A demoted admin's token loses the admin scope at once.
  const bob = await loginPair(app, 'bob');
  await makeAdmin(db, 'bob');
  const ops = await made(app, bob, ['admin', 'books:read']);
  assert.equal((await get(app, '/admin/users', bearer(ops.token))).statusCode, 200);
  await db.updateTable('users').set({ admin: 0 }).where('username', '=', 'bob').execute();
  assert.equal((await get(app, '/admin/users', bearer(ops.token))).statusCode, 403);
  assert.equal((await get(app, '/bookapi/books', bearer(ops.token))).statusCode, 200);

  // A deleted owner: the token goes with the account.
  const aliceAgain = await loginPair(app, 'alice');
  const c = await made(app, aliceAgain, ['books:read']);
  assert.equal((await get(app, '/bookapi/books', bearer(c.token))).statusCode, 200);
  assert.equal(
    (
      await app.inject({
        method: 'DELETE',
        url: `/admin/users/${alicePublic}`,
        headers: rootAgain.headers,
      })
    ).statusCode,
    200,
  );
  const gone = await get(app, '/bookapi/books', bearer(c.token));
  assert.equal(gone.statusCode, 401);
});

test('a password change revokes the account’s tokens; a demotion its admin tokens, for good', async (t) => {
  const { app, db } = await build(t);
  const alice = await loginPair(app, 'alice');
  const token = await made(app, alice, ['books:read']);
  const changed = await app.inject({
    method: 'PUT',
    url: '/me/password',
    headers: alice.headers,
    payload: { current_password: 'testing_p@ssword', new_password: 'a completely new passphrase' },
  });
  assert.equal(changed.statusCode, 200);
  assert.equal((await get(app, '/bookapi/books', bearer(token.token))).statusCode, 401);

  await loginPair(app, 'root');
  await makeAdmin(db, 'root');
  const root = await loginPair(app, 'root');
  const bob = await loginPair(app, 'bob');
  await makeAdmin(db, 'bob');
  const ops = await made(app, bob, ['admin']);
  const plain = await made(app, bob, ['books:read']);
  const bobId = (
    await db.selectFrom('users').select('public_id').where('username', '=', 'bob').executeTakeFirstOrThrow()
  ).public_id;
  const setAdmin = (admin: boolean) =>
    app.inject({ method: 'PATCH', url: `/admin/users/${bobId}`, headers: root.headers, payload: { admin } });
  assert.equal((await setAdmin(false)).statusCode, 200);
  assert.equal((await setAdmin(true)).statusCode, 200);
  const stale = await get(app, '/admin/users', bearer(ops.token));
  assert.equal(stale.statusCode, 401, 'promoted again, the old admin token stays revoked');
  assert.equal(
    (await get(app, '/bookapi/books', bearer(plain.token))).statusCode,
    200,
    'other tokens live on',
  );
});

test('least privilege: an admin’s token without the admin scope cannot touch other people’s books', async (t) => {
  const { app, db } = await build(t);
  const bob = await loginPair(app, 'bob');
  const book = await app.inject({
    method: 'POST',
    url: '/bookapi/books',
    headers: bob.headers,
    payload: { title: 'Bob’s book', author: 'Bob' },
  });
  const id = body<{ id: number }>(book).id;
  await loginPair(app, 'root');
  await makeAdmin(db, 'root');
  const root = await loginPair(app, 'root');
  const writer = await made(app, root, ['books:write']);
  const patch = (token: string) =>
    app.inject({
      method: 'PATCH',
      url: `/bookapi/books/${id}`,
      headers: bearer(token),
      payload: { title: 'hijacked' },
    });
  assert.equal((await patch(writer.token)).statusCode, 403);
  const adminWriter = await made(app, root, ['books:write', 'admin']);
  assert.equal((await patch(adminWriter.token)).statusCode, 200, 'with the admin scope it may');
});

test('a refused token is not recorded as used', async (t) => {
  const { app } = await build(t);
  const alice = await loginPair(app, 'alice');
  const reader = await made(app, alice, ['books:read']);
  assert.equal((await get(app, '/me', bearer(reader.token))).statusCode, 403);
  await app.tokenUsage?.flush();
  const list = body<{ tokens: Created[] }>(await get(app, '/me/tokens', alice.headers));
  assert.equal(list.tokens[0]?.last_used_at, null);
});

test('malformed, unknown and forged tokens are 401, never a 500', async (t) => {
  const { app } = await build(t);
  const alice = await loginPair(app, 'alice');
  const real = await made(app, alice, ['books:read']);
  for (const token of [
    'bkp_',
    'bkp_short',
    `bkp_${'A'.repeat(43)}`,
    `${real.token}x`,
    real.token.slice(0, -1),
    `bkp_${'\u00e9'.repeat(43)}`,
    `BKP_${real.token.slice(4)}`,
  ]) {
    const res = await get(app, '/bookapi/books', { 'x-access-token': token });
    assert.equal(res.statusCode, 401, `${token} → ${res.statusCode}`);
    assert.match(String(body(res).code), /^TOKEN_/);
  }
});

test('last use is recorded off the request path, to the minute', async (t) => {
  const { app } = await build(t);
  const alice = await loginPair(app, 'alice');
  const token = await made(app, alice, ['books:read']);
  assert.equal((await get(app, '/bookapi/books', bearer(token.token))).statusCode, 200);
  const before = body<{ tokens: Created[] }>(await get(app, '/me/tokens', alice.headers));
  assert.equal(before.tokens[0]?.last_used_at, null, 'written by the periodic flush, not by the request');
  await app.tokenUsage?.flush();
  const after = body<{ tokens: Created[] }>(await get(app, '/me/tokens', alice.headers));
  assert.equal(after.tokens[0]?.last_used_at, '2026-01-01T00:00:00.000Z');
  // Still valid after the write: last use is not something the cached answers depend on.
  assert.equal((await get(app, '/bookapi/books', bearer(token.token))).statusCode, 200);
});

test('PERSONAL_ACCESS_TOKENS=off: bkp_ tokens are refused and /me/tokens does not exist', async (t) => {
  const { app, db } = await build(t, { PERSONAL_ACCESS_TOKENS: 'off' });
  // Off, a route needs no scope; on, it must declare one (deny by default).
  assert.doesNotThrow(() =>
    app.get(
      '/unscoped',
      tokenRequired(async () => ({ ok: true })),
    ),
  );
  const alice = await loginPair(app, 'alice');
  assert.equal((await createToken(app, alice, { name: 'x', scopes: ['books:read'] })).statusCode, 404);
  const id = await db
    .selectFrom('users')
    .select('id')
    .where('username', '=', 'alice')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('personal_access_tokens')
    .values({
      public_id: '00000000-0000-4000-8000-000000000000',
      user_id: id.id,
      name: 'planted',
      scopes: 'books:read',
      token_hash: (await import('../../src/personal-tokens/token.js')).hashToken(`bkp_${'A'.repeat(43)}`),
      prefix: 'bkp_AAAAAAAA',
      created_at: 0,
    })
    .execute();
  const res = await get(app, '/bookapi/books', bearer(`bkp_${'A'.repeat(43)}`));
  assert.equal(res.statusCode, 401);
  assert.equal(body(res).code, 'TOKEN_INVALID');
  assert.equal((await get(app, '/unscoped', alice.headers)).statusCode, 200);
});

test('deny by default: with tokens on, a route that declares no scope stops the start-up', async (t) => {
  const { app } = await build(t);
  assert.throws(
    () =>
      app.get(
        '/unscoped',
        tokenRequired(async () => ({})),
      ),
    /GET \/unscoped \(@tokenRequired\) declares no scope/,
  );
  // Declared either way round, or session-only: accepted.
  app.get('/scoped-outside', scope('books:read')(tokenRequired(async () => ({}))));
  app.get('/scoped-inside', tokenRequired(scope('books:read')(async () => ({}))));
  app.get(
    '/session-only',
    sessionTokenRequired(async () => ({})),
  );
  // A scope alone does not make a plain function a handler that receives its user.
  assert.throws(
    () =>
      app.get(
        '/bare-scoped',
        // The types refuse it already (it is no Fastify handler); at run time the start-up does.
        scope('books:read')(async () => ({})) as never,
      ),
    /has no auth decorator/,
  );
  assert.throws(
    () => app.get('/public-scoped', scope('books:read')(publicRoute(async () => ({})))),
    /@scope cannot be combined with @publicRoute/,
  );
});

test('the OpenAPI document names each operation’s scopes', async (t) => {
  const { app } = await build(t);
  const doc = body<{ paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>> }>(
    await app.inject({ method: 'GET', url: '/openapi.json' }),
  );
  assert.deepEqual(doc.paths['/bookapi/books']?.get?.security, [
    { bearerAuth: ['books:read'] },
    { accessToken: ['books:read'] },
  ]);
  assert.deepEqual(doc.paths['/bookapi/books']?.post?.security?.[0], { bearerAuth: ['books:write'] });
  assert.deepEqual(doc.paths['/admin/users']?.get?.security?.[0], { bearerAuth: ['admin'] });
  assert.deepEqual(doc.paths['/me/sessions']?.get?.security?.[0], { bearerAuth: [] });
  assert.deepEqual(doc.paths['/login']?.post?.security, []);
});

test('every operation, walked from the OpenAPI document: a token without its scopes is refused before the handler', async (t) => {
  const { app, db } = await build(t);
  const root = await loginPair(app, 'root');
  await makeAdmin(db, 'root');
  const doc = body<{
    paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>;
  }>(await app.inject({ method: 'GET', url: '/openapi.json' }));
  const tokens = new Map<string, string>();
  const tokenWith = async (scopes: string[]) => {
    const key = scopes.join(' ');
    if (!tokens.has(key)) tokens.set(key, (await made(app, root, scopes)).token);
    return tokens.get(key) as string;
  };
  const ALL = ['books:read', 'books:write', 'account:read', 'admin'];
  let checked = 0;
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const security = operation.security;
      if (!security || security.length === 0) continue; // public
      const needed = security.find((s) => 'bearerAuth' in s)?.bearerAuth ?? [];
      const url = path.replace(/\{public_id\}|\{id\}/g, (m) =>
        m === '{id}'
          ? path.includes('tokens')
            ? '00000000-0000-4000-8000-000000000000'
            : '1'
          : '00000000-0000-4000-8000-000000000000',
      );
      const call = async (token: string) =>
        app.inject({ method: method.toUpperCase() as 'GET', url, headers: bearer(token) });
      if (needed.length === 0) {
        // Session-only: not even a token holding every scope.
        const res = await call(await tokenWith(ALL));
        assert.equal(res.statusCode, 403, `${method} ${path}`);
        assert.equal(body(res).code, 'SESSION_TOKEN_REQUIRED', `${method} ${path}`);
      } else {
        for (const missing of needed) {
          const res = await call(await tokenWith(ALL.filter((s) => s !== missing)));
          assert.equal(res.statusCode, 403, `${method} ${path} without ${missing}`);
          assert.equal(body(res).code, 'INSUFFICIENT_SCOPE', `${method} ${path} without ${missing}`);
        }
        const allowed = await call(await tokenWith(needed));
        assert.notEqual(body(allowed).code, 'INSUFFICIENT_SCOPE', `${method} ${path} with ${needed}`);
        assert.notEqual(allowed.statusCode, 401, `${method} ${path} with ${needed}`);
      }
      checked++;
    }
  }
  assert.ok(checked >= 20, `only ${checked} operations checked`);
});
