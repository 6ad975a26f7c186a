import assert from 'node:assert/strict';
import { test } from 'node:test';
import { body, build } from '../helpers.js';

type Operation = {
  security?: Record<string, string[]>[];
  responses: Record<string, unknown>;
  tags?: string[];
};
type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown> };
};

/** Every operation, and what a token needs there: public, a session's token only, or these scopes. */
const ROUTES: [string, string, 'public' | 'session' | string[]][] = [
  ['post', '/signup', 'public'],
  ['post', '/login', 'public'],
  ['post', '/token/refresh', 'public'],
  ['post', '/token/logout', 'public'],
  ['get', '/.well-known/jwks.json', 'public'],
  ['post', '/logout', 'session'],
  ['post', '/logout/all', 'session'],
  ['get', '/me', ['account:read']],
  ['put', '/me/password', 'session'],
  ['delete', '/me', 'session'],
  ['get', '/me/activity', ['account:read']],
  ['get', '/me/sessions', 'session'],
  ['delete', '/me/sessions/{id}', 'session'],
  ['get', '/me/tokens', 'session'],
  ['post', '/me/tokens', 'session'],
  ['delete', '/me/tokens/{id}', 'session'],
  ['get', '/admin/users', ['admin']],
  ['patch', '/admin/users/{public_id}', 'session'],
  ['delete', '/admin/users/{public_id}', 'session'],
  ['get', '/admin/users/{public_id}/sessions', 'session'],
  ['delete', '/admin/users/{public_id}/sessions', 'session'],
  ['get', '/admin/audit', ['admin']],
  ['get', '/', 'public'],
  ['get', '/health', 'public'],
  ['get', '/ready', 'public'],
  ['get', '/bookapi/books', ['books:read']],
  ['post', '/bookapi/books', ['books:write']],
  ['post', '/bookapi/addbook', ['books:write']],
  ['get', '/bookapi/books/{id}', ['books:read']],
  ['patch', '/bookapi/books/{id}', ['books:write']],
  ['delete', '/bookapi/books/{id}', ['books:write']],
];

test('GET /openapi.json documents every route with its auth requirement and its errors', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(res.statusCode, 200);
  const doc = body<Doc>(res);
  assert.equal(doc.openapi, '3.1.0');
  assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['accessToken', 'bearerAuth']);
  for (const [method, path, auth] of ROUTES) {
    const op = doc.paths[path]?.[method];
    assert.ok(op, `${method} ${path} is documented`);
    if (auth === 'public') {
      assert.deepEqual(op.security, [], `${method} ${path} is public`);
    } else {
      const scopes = auth === 'session' ? [] : auth;
      assert.deepEqual(
        op.security,
        [{ bearerAuth: scopes }, { accessToken: scopes }],
        `${method} ${path} needs a token with ${scopes.join(', ') || 'no scope: a session'}`,
      );
      assert.ok(op.responses['403'], `${method} ${path} documents 403`);
      assert.ok(op.responses['401'], `${method} ${path} documents 401`);
    }
    if (path === '/' || path === '/health' || path === '/.well-known/jwks.json') continue; // nothing there can fail
    assert.ok(
      Object.keys(op.responses).some((code) => /^[45]/.test(code)),
      `${method} ${path} documents its errors`,
    );
  }
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((m) => `${m} ${path}`),
  );
  assert.deepEqual(
    documented.sort(),
    ROUTES.map(([m, p]) => `${m} ${p}`).sort(),
    'no undocumented or hidden extras',
  );
});

test('GET / points to the docs: a page with a link for a browser, JSON for a client', async (t) => {
  const { app } = await build(t);
  const page = await app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html,*/*' } });
  assert.equal(page.statusCode, 200);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.match(page.body, /<a href="\/docs">\/docs<\/a>/);
  const json = await app.inject({ method: 'GET', url: '/' });
  assert.equal(json.statusCode, 200);
  assert.equal(JSON.parse(json.body).docs, '/docs');
  // By q-values and in any case, as RFC 9110 says.
  const accepting = {
    'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8': 'text/html',
    'TEXT/HTML': 'text/html',
    'application/json;q=0.5, text/html': 'text/html',
    'text/html;q=0': 'application/json',
    'application/json, text/html;q=0.9': 'application/json',
    'text/html;q=0.1, application/json': 'application/json',
    '*/*': 'application/json',
    'image/png': 'application/json',
  };
  for (const [accept, type] of Object.entries(accepting)) {
    const res = await app.inject({ method: 'GET', url: '/', headers: { accept } });
    assert.equal(String(res.headers['content-type']).split(';')[0], type, accept);
    assert.equal(res.headers.vary, 'Accept');
  }
});

test('the CSP never asks a browser to upgrade to https (the docs must work over plain HTTP by any name)', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ method: 'GET', url: '/docs/', headers: { host: 'books.internal:5000' } });
  assert.doesNotMatch(String(res.headers['content-security-policy']), /upgrade-insecure-requests/);
  assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
});

test('GET /docs serves the docs UI from local files, pointed at /openapi.json', async (t) => {
  const { app } = await build(t);
  const page = await app.inject({ method: 'GET', url: '/docs/' });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /swagger-ui/);
  assert.equal(/https?:\/\/(?!localhost)/.test(page.body), false, 'no CDN links');
  const init = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
  assert.equal(init.statusCode, 200);
  assert.match(init.body, /openapi\.json/);
  const css = await app.inject({ method: 'GET', url: '/docs/static/swagger-ui.css' });
  assert.equal(css.statusCode, 200);
});
