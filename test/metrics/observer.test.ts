// The metrics' parts without an app: the Observer's counters, the lean histogram against
// prom-client's own, and the METRICS_PORT listener.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { AUDIT_TYPES } from '../../src/audit/events.js';
import { AuthMetrics } from '../../src/metrics/auth.js';
import { CellHistogram } from '../../src/metrics/cells.js';
import { HttpMetrics } from '../../src/metrics/http.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { histogram, parseMetrics, value } from './scrape.js';

async function read(registry: Registry) {
  return parseMetrics(await registry.metrics());
}

test('the Observer: login outcomes, refresh outcomes, rejections by code, events by type, all bounded', async () => {
  const registry = new Registry();
  let refused401 = 0;
  const observer = new AuthMetrics(registry, () => refused401);
  observer.authEvent('login.success', 'success');
  observer.authEvent('login.success', 'success');
  observer.authEvent('login.failure', 'failure');
  observer.authEvent('login.throttled', 'failure');
  observer.authEvent('login.disabled', 'failure');
  observer.authEvent('refresh', 'rotated');
  observer.authEvent('refresh', 'success');
  observer.authEvent('refresh', 'grace_replay');
  observer.authEvent('refresh.reuse_detected', 'failure');
  refused401 = 3; // the reuse's 401 and two refresh tokens refused
  observer.authEvent('logout', 'success');
  observer.authEvent('alice', 'bob'); // never a label of its own, whatever is reported
  observer.tokenRejected('TOKEN_EXPIRED');
  observer.tokenRejected('TOKEN_EXPIRED');
  observer.tokenRejected('INSUFFICIENT_SCOPE');
  observer.tokenRejected('eyJhbGciOiJIUzI1NiJ9.payload.signature');

  const metrics = await read(registry);
  const logins = (outcome: string) => value(metrics, 'bookapi_auth_logins_total', { outcome });
  assert.deepEqual(['success', 'failure', 'throttled', 'disabled'].map(logins), [2, 1, 1, 1]);
  const refreshes = (outcome: string) => value(metrics, 'bookapi_auth_refresh_total', { outcome });
  assert.deepEqual(['rotated', 'grace_replay', 'reuse_detected', 'invalid'].map(refreshes), [2, 1, 1, 2]);
  const rejections = (reason: string) => value(metrics, 'bookapi_auth_token_rejections_total', { reason });
  assert.deepEqual(['TOKEN_EXPIRED', 'INSUFFICIENT_SCOPE', 'OTHER'].map(rejections), [2, 1, 1]);
  const events = (type: string, outcome: string) =>
    value(metrics, 'bookapi_auth_events_total', { type, outcome });
  assert.equal(events('login.success', 'success'), 2);
  assert.equal(events('logout', 'success'), 1);
  assert.equal(events('refresh', 'grace_replay'), 1);
  assert.equal(events('other', 'other'), 1);
  const text = await registry.metrics();
  assert.ok(!text.includes('alice') && !text.includes('bob') && !text.includes('eyJ'), text);

  // However many codes come, the label set stays bounded.
  for (let i = 0; i < 200; i++) observer.tokenRejected(`CODE_${i}`);
  const reasons = (await read(registry)).get('bookapi_auth_token_rejections_total')?.samples ?? [];
  assert.ok(reasons.length <= 65, `${reasons.length} reasons`);
  // And every audit type the server has is a label value of its own.
  for (const type of AUDIT_TYPES) observer.authEvent(type, 'success');
  const after = await read(registry);
  for (const type of AUDIT_TYPES)
    assert.ok((value(after, 'bookapi_auth_events_total', { type, outcome: 'success' }) ?? 0) >= 1, type);
});

test('the invalid refreshes never go down, even when a reuse is counted before its 401', async () => {
  const registry = new Registry();
  let refused401 = 2;
  const observer = new AuthMetrics(registry, () => refused401);
  const invalid = async () =>
    value(await read(registry), 'bookapi_auth_refresh_total', { outcome: 'invalid' });
  assert.equal(await invalid(), 2);
  observer.authEvent('refresh.reuse_detected', 'failure'); // its 401 is not answered yet
  assert.equal(await invalid(), 2);
  refused401 = 3;
  assert.equal(await invalid(), 2);
  refused401 = 4;
  assert.equal(await invalid(), 3);
});

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVATIONS: [string, number][] = [
  ['/a', 0.0005],
  ['/a', 0.001],
  ['/a', 0.05],
  ['/b/:id', 3],
  ['/a', 0.5],
  ['/b/:id', 0.01],
];

test('a CellHistogram writes what prom-client Histogram writes for the same observations', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const cells = new CellHistogram<'route'>({
    name: 'x_seconds',
    help: 'h',
    labelNames: ['route'],
    buckets: BUCKETS,
    registers: [ours],
  });
  const reference = new Histogram({
    name: 'x_seconds',
    help: 'h',
    labelNames: ['route'],
    buckets: BUCKETS,
    registers: [theirs],
  });
  for (const [route, seconds] of OBSERVATIONS) {
    cells.cell({ route }).observe(seconds);
    reference.observe({ route }, seconds);
  }
  assert.equal(await ours.metrics(), await theirs.metrics());
  // What a worker sends its primary: the same, but for prom-client's empty exemplar fields.
  const json = async (registry: Registry) =>
    (await registry.getMetricsAsJSON()).map((m) => ({
      ...m,
      values: m.values.map(
        ({ labels, value, metricName }: { labels: object; value: number; metricName?: string }) => ({
          labels,
          value,
          metricName,
        }),
      ),
    }));
  assert.deepEqual(await json(ours), await json(theirs));
  const a = histogram(await read(ours), 'x_seconds', { route: '/a' });
  assert.deepEqual(a, {
    buckets: { '0.001': 2, '0.01': 2, '0.1': 3, '1': 4, '+Inf': 4 },
    sum: 0.5515,
    count: 4,
  });
});

test('workers’ CellHistograms and counters add up like prom-client’s (the cluster aggregation)', async () => {
  const workers = [new Registry(), new Registry()];
  const references = [new Registry(), new Registry()];
  workers.forEach((registry, i) => {
    const http = new HttpMetrics(registry);
    const reference = new Histogram({
      name: 'bookapi_http_request_duration_seconds',
      help: 'h',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [references[i] as Registry],
    });
    for (const [route, seconds] of OBSERVATIONS.slice(i * 3, i * 3 + 3)) {
      http.cell(route, 'GET', 200).observe(seconds);
      reference.observe({ method: 'GET', route, status_code: '200' }, seconds);
    }
  });
  const sum = async (registries: Registry[]) =>
    read(AggregatorRegistry.aggregate(await Promise.all(registries.map((r) => r.getMetricsAsJSON()))));
  const ours = await sum(workers);
  const theirs = await sum(references);
  const name = 'bookapi_http_request_duration_seconds';
  for (const route of ['/a', '/b/:id'])
    assert.deepEqual(
      histogram(ours, name, { method: 'GET', route, status_code: '200' }),
      histogram(theirs, name, { method: 'GET', route, status_code: '200' }),
    );
  const requests = (route: string) =>
    value(ours, 'bookapi_http_requests_total', { method: 'GET', route, status_code: '200' });
  assert.deepEqual([requests('/a'), requests('/b/:id')], [4, 2]);
});

function get(
  port: number,
  path: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<{ status: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the METRICS_PORT listener: 127.0.0.1 only, GET /metrics only, a taken port named', async (t) => {
  let fail = false;
  const server = await startMetricsServer(0, async () => {
    if (fail) throw new Error('no metrics');
    return '# HELP a_total a\n# TYPE a_total counter\na_total 1\n';
  });
  t.after(() => server.close());
  const { address, port } = server.address() as AddressInfo;
  assert.equal(address, '127.0.0.1');
  const ok = await get(port, '/metrics');
  assert.equal(ok.status, 200);
  assert.equal(ok.type, 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(value(parseMetrics(ok.body), 'a_total'), 1);
  assert.equal((await get(port, '/metrics?x=1')).status, 200);
  assert.equal((await get(port, '/')).status, 404);
  assert.equal((await get(port, '/metrics/x')).status, 404);
  assert.equal((await get(port, '/metrics', 'POST')).status, 405);
  // Only our own names: a rebound DNS name pointing here gets nothing.
  assert.equal((await get(port, '/metrics', 'GET', { host: `localhost:${port}` })).status, 200);
  assert.equal((await get(port, '/metrics', 'GET', { host: `rebind.evil.example:${port}` })).status, 421);
  fail = true;
  assert.equal((await get(port, '/metrics')).status, 503);

  await assert.rejects(
    startMetricsServer(port, async () => ''),
    /127\.0\.0\.1:\d+ .*already in use.*METRICS_PORT/,
  );
});
