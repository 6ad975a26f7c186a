// GET /metrics on the API's port: off unless configured, its own bearer token, and what it counts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { addBook, body, build, loginPair, refresh, signupAndLogin, TEST_DB } from '../helpers.js';
import { histogram, labelValues, parseMetrics, scrape, value } from './scrape.js';

const TOKEN = randomBytes(32).toString('hex');
const BEARER = { authorization: `Bearer ${TOKEN}` };

test('off unless configured: GET /metrics is the 404 of any unknown route', async (t) => {
  for (const env of [{}, { METRICS_PORT: '0' }] as Record<string, string>[]) {
    const { app } = await build(t, env);
    const res = await app.inject({ url: '/metrics', headers: BEARER });
    assert.equal(res.statusCode, 404, JSON.stringify(env));
    assert.equal(body(res).code, 'ROUTE_NOT_FOUND');
  }
});

test('METRICS_TOKEN: only `Authorization: Bearer <METRICS_TOKEN>` reads them; anything else is the API 401', async (t) => {
  const { app } = await build(t, { METRICS_TOKEN: TOKEN });
  const { token: userToken } = await signupAndLogin(app);
  const refused = [
    [{}, 'TOKEN_MISSING'],
    [{ authorization: TOKEN }, 'TOKEN_MISSING'],
    [{ 'x-access-token': TOKEN }, 'TOKEN_MISSING'],
    [{ authorization: `Basic ${TOKEN}` }, 'TOKEN_MISSING'],
    [{ authorization: `Bearer ${TOKEN.slice(0, -1)}` }, 'TOKEN_INVALID'],
    [{ authorization: `Bearer ${TOKEN}0` }, 'TOKEN_INVALID'],
    [{ authorization: `Bearer ${randomBytes(32).toString('hex')}` }, 'TOKEN_INVALID'],
    [{ authorization: `Bearer ${userToken}` }, 'TOKEN_INVALID'],
  ] as const;
  for (const [headers, code] of refused) {
    const res = await app.inject({ url: '/metrics', headers });
    assert.equal(res.statusCode, 401, JSON.stringify(headers));
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(body(res).code, code, JSON.stringify(headers));
    assert.match(String(res.headers['www-authenticate']), /^Bearer realm="bookapi"/);
    assert.doesNotMatch(res.body, /bookapi_/);
  }
  const ok = await app.inject({ url: '/metrics', headers: { authorization: `bearer   ${TOKEN}` } });
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.headers['cache-control'], 'no-store');
  const metrics = parseMetrics(ok.body);
  assert.equal(metrics.get('bookapi_http_requests_total')?.type, 'counter');
  // An operator's endpoint, not part of the API's document.
  const doc = body<{ paths: Record<string, unknown> }>(await app.inject({ url: '/openapi.json' }));
  assert.ok(doc.paths['/bookapi/books'] !== undefined);
  assert.equal(doc.paths['/metrics'], undefined);
});

test('requests are counted by route template, method and status; URLs that match no route share one label', async (t) => {
  const { app } = await build(t, { METRICS_TOKEN: TOKEN });
  const { headers } = await signupAndLogin(app);
  const one = await addBook(app, headers);
  const two = await addBook(app, headers, { title: 'Dune', author: 'Frank Herbert' });
  for (const id of [one.id, two.id, one.id, 999]) await app.inject({ url: `/bookapi/books/${id}`, headers });
  for (const url of ['/nope', '/nope/1', '/nope/2?x=3', '/bookapi/books/1/extra', '/%E2%82%AC'])
    assert.equal((await app.inject({ url })).statusCode, 404);
  assert.equal((await app.inject({ method: 'PUT', url: '/bookapi/books' })).statusCode, 404);

  const metrics = await scrape(app, TOKEN);
  const requests = (method: string, route: string, status: number) =>
    value(metrics, 'bookapi_http_requests_total', { method, route, status_code: String(status) });
  assert.equal(requests('GET', '/bookapi/books/:id', 200), 3);
  assert.equal(requests('GET', '/bookapi/books/:id', 404), 1);
  assert.equal(requests('POST', '/bookapi/books', 201), 2);
  assert.equal(requests('GET', 'unmatched', 404), 5);
  assert.equal(requests('PUT', 'unmatched', 404), 1);
  // No URL became a label: every route label is a template of the router, or `unmatched`.
  const routes = labelValues(metrics, 'bookapi_http_requests_total', 'route');
  assert.deepEqual(
    [...routes].sort(),
    ['/bookapi/books', '/bookapi/books/:id', '/login', '/signup', 'unmatched'].sort(),
  );

  // The histogram holds the same requests, each in its buckets, in seconds.
  const durations = histogram(metrics, 'bookapi_http_request_duration_seconds', {
    method: 'GET',
    route: '/bookapi/books/:id',
    status_code: '200',
  });
  assert.equal(durations?.count, 3);
  assert.equal(durations?.buckets['+Inf'], 3);
  assert.ok((durations?.sum ?? 0) > 0 && (durations?.sum ?? 1) < 3, `sum ${durations?.sum} seconds`);
  const bounds = Object.keys(durations?.buckets ?? {})
    .filter((le) => le !== '+Inf')
    .map(Number)
    .sort((a, b) => a - b);
  assert.deepEqual(bounds, [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  const cumulative = bounds.map((le) => durations?.buckets[String(le)] ?? -1);
  assert.deepEqual(
    cumulative,
    [...cumulative].sort((a, b) => a - b),
    'buckets are cumulative',
  );

  // A scrape is a request too, counted once it is answered.
  const again = await scrape(app, TOKEN);
  assert.equal(
    value(again, 'bookapi_http_requests_total', { method: 'GET', route: '/metrics', status_code: '200' }),
    1,
  );
});

test('auth counters: logins, refreshes and token rejections by outcome; audit events by type; never a user', async (t) => {
  const { app, clock } = await build(t, { METRICS_TOKEN: TOKEN });
  const pair = await loginPair(app, 'metrics_user');
  const wrong = await app.inject({
    method: 'POST',
    url: '/login',
    payload: { username: 'metrics_user', password: 'not the password' },
  });
  assert.equal(wrong.statusCode, 401);
  assert.equal(
    (await app.inject({ url: '/bookapi/books', headers: { 'x-access-token': 'x.y.z' } })).statusCode,
    401,
  );
  assert.equal((await app.inject({ url: '/bookapi/books' })).statusCode, 401);

  const rotated = await refresh(app, pair.refresh_token);
  assert.equal(rotated.statusCode, 201);
  assert.equal((await refresh(app, pair.refresh_token)).statusCode, 201, 'a retry within the grace');
  clock.advance(60);
  assert.equal((await refresh(app, pair.refresh_token)).statusCode, 401, 'reuse after the grace');
  assert.equal((await refresh(app, 'not a refresh token')).statusCode, 401);
  assert.equal((await refresh(app, body<{ refresh_token: string }>(rotated).refresh_token)).statusCode, 401);

  const metrics = await scrape(app, TOKEN);
  const logins = (outcome: string) => value(metrics, 'bookapi_auth_logins_total', { outcome });
  assert.deepEqual(['success', 'failure', 'throttled', 'disabled'].map(logins), [1, 1, 0, 0]);
  const refreshes = (outcome: string) => value(metrics, 'bookapi_auth_refresh_total', { outcome });
  // The last refresh is the successor of a session already ended by the reuse: invalid, not a new theft.
  assert.deepEqual(['rotated', 'grace_replay', 'reuse_detected', 'invalid'].map(refreshes), [1, 1, 1, 2]);
  const rejections = (reason: string) => value(metrics, 'bookapi_auth_token_rejections_total', { reason });
  assert.equal(rejections('TOKEN_INVALID'), 1);
  assert.equal(rejections('TOKEN_MISSING'), 1);
  const events = (type: string, outcome: string) =>
    value(metrics, 'bookapi_auth_events_total', { type, outcome });
  assert.equal(events('signup', 'success'), 1);
  assert.equal(events('login.success', 'success'), 1);
  assert.equal(events('login.failure', 'failure'), 1);
  assert.equal(events('refresh', 'grace_replay'), 1);
  assert.equal(events('refresh.reuse_detected', 'failure'), 1);

  // No label anywhere holds a user's name, id or token.
  const text = (await app.inject({ url: '/metrics', headers: BEARER })).body;
  for (const secret of ['metrics_user', pair.token, pair.refresh_token, pair.token.split('.')[1] ?? '?'])
    assert.ok(!text.includes(secret), `the exposition holds ${secret.slice(0, 12)}…`);
  const labels = [...text.matchAll(/="([^"]*)"/g)].map((m) => m[1] ?? '');
  assert.ok(
    labels.every((v) => v.length <= 64),
    'label values are short, fixed strings',
  );
});

test('database, password and process metrics', async (t) => {
  const { app } = await build(t, { METRICS_TOKEN: TOKEN });
  const { headers } = await signupAndLogin(app);
  await addBook(app, headers);
  const metrics = await scrape(app, TOKEN);

  for (const operation of ['insert', 'select']) {
    const queries = histogram(metrics, 'bookapi_db_query_duration_seconds', { operation });
    assert.ok((queries?.count ?? 0) > 0, `${operation} queries are timed`);
  }
  assert.equal(metrics.get('bookapi_db_query_errors_total')?.type, 'counter');
  const hashes = histogram(metrics, 'bookapi_password_hash_duration_seconds', { operation: 'hash' });
  const verifies = histogram(metrics, 'bookapi_password_hash_duration_seconds', { operation: 'verify' });
  assert.ok((hashes?.count ?? 0) >= 1 && (verifies?.count ?? 0) >= 1, 'signup hashed, login verified');
  assert.ok((verifies?.sum ?? 0) > 0.001, 'argon2id takes milliseconds');
  assert.equal(value(metrics, 'bookapi_password_hash_queue_length'), 0);

  if (TEST_DB === 'postgres') {
    const idle = value(metrics, 'bookapi_db_pool_connections', { state: 'idle' }) ?? -1;
    const inUse = value(metrics, 'bookapi_db_pool_connections', { state: 'in_use' }) ?? -1;
    assert.ok(idle >= 1 && inUse >= 0, `pool: ${idle} idle, ${inUse} in use`);
    assert.equal(value(metrics, 'bookapi_db_pool_max_connections'), 10);
    assert.equal(value(metrics, 'bookapi_db_pool_waiting_queries'), 0);
  } else {
    assert.equal(metrics.get('bookapi_db_pool_connections'), undefined, 'SQLite has no pool');
  }

  // Node's and the process's own, under the names every Prometheus client gives them.
  assert.ok((value(metrics, 'process_cpu_seconds_total') ?? 0) > 0);
  assert.ok((value(metrics, 'nodejs_heap_size_used_bytes') ?? 0) > 0);
  assert.equal(metrics.get('nodejs_eventloop_lag_seconds')?.type, 'gauge');
});

test('names follow Prometheus conventions: bookapi_ prefix, base units, _total only on counters', async (t) => {
  const { app } = await build(t, { METRICS_TOKEN: TOKEN });
  await signupAndLogin(app);
  const metrics = await scrape(app, TOKEN);
  const ours = [...metrics].filter(([name]) => name.startsWith('bookapi_'));
  assert.ok(ours.length >= 10, `${ours.length} metrics of our own`);
  for (const [name, metric] of ours) {
    assert.match(name, /^bookapi_[a-z][a-z0-9_]*$/);
    assert.ok(metric.help.length > 0, `${name} has help`);
    if (metric.type === 'counter') assert.match(name, /_total$/);
    else assert.doesNotMatch(name, /_total$/, name);
    if (metric.type === 'histogram') assert.match(name, /_seconds$/);
    assert.doesNotMatch(name, /_(milliseconds|ms|minutes)\b/);
  }
});
