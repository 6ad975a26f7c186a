// The metrics of real server processes: one answer for all workers, and METRICS_PORT on 127.0.0.1 only.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { type ServerProcess, startServer, stopServer } from '../process.js';
import { PROMETHEUS_TEXT, parseMetrics, value } from './scrape.js';

const TOKEN = randomBytes(32).toString('hex');

function sqliteFile(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-metrics-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return `sqlite:${path.join(dir, 'books.db')}`;
}

/** Starts a server and waits for its start-up summary, which says where the metrics are. */
async function start(
  t: TestContext,
  env: Record<string, string>,
): Promise<{ server: ServerProcess; base: string; port: number }> {
  const server = startServer({ DATABASE_URL: sqliteFile(t), ...env });
  t.after(() => stopServer(server));
  const base = await server.ready();
  const summary = /"metrics":"[^"]*http:\/\/127\.0\.0\.1:(\d+)\/metrics"/;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !summary.test(server.output())) await new Promise((r) => setTimeout(r, 50));
  const match = summary.exec(server.output());
  assert.ok(match, `no metrics address in the start-up summary:\n${server.output()}`);
  return { server, base, port: Number(match[1]) };
}

/** One request on a connection of its own, so node:cluster hands each to the next worker. */
function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { connection: 'close', ...headers } }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
  });
}

test('WORKERS=2: requests spread over both workers sum to N in one scrape, on the API port and on METRICS_PORT', async (t) => {
  const { server, base, port } = await start(t, { WORKERS: '2', METRICS_TOKEN: TOKEN, METRICS_PORT: '0' });
  const deadline = Date.now() + 30_000;
  while ((server.output().match(/Server listening/g) ?? []).length < 2 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  const N = 24;
  for (let i = 0; i < N; i++) assert.equal((await get(`${base}/bookapi/books`)).status, 401);
  const served = new Set(
    [...server.output().matchAll(/"pid":(\d+)[^\n]*"url":"\/bookapi\/books"/g)].map((m) => m[1]),
  );
  assert.equal(served.size, 2, 'both workers answered');

  const viaApi = await get(`${base}/metrics`, { authorization: `Bearer ${TOKEN}` });
  assert.equal(viaApi.status, 200, viaApi.body);
  assert.equal(viaApi.type, PROMETHEUS_TEXT);
  const viaPort = await get(`http://127.0.0.1:${port}/metrics`);
  assert.equal(viaPort.status, 200);
  assert.equal(viaPort.type, PROMETHEUS_TEXT);
  for (const scrape of [viaApi, viaPort]) {
    const metrics = parseMetrics(scrape.body);
    const labels = { method: 'GET', route: '/bookapi/books', status_code: '401' };
    assert.equal(value(metrics, 'bookapi_http_requests_total', labels), N);
    assert.equal(value(metrics, 'bookapi_auth_token_rejections_total', { reason: 'TOKEN_MISSING' }), N);
    // Both workers' processes, added up: more CPU than either used alone.
    assert.ok((value(metrics, 'process_cpu_seconds_total') ?? 0) > 0);
    assert.equal(value(metrics, 'bookapi_password_hash_queue_length'), 0);
  }
  // Without the token, the API port keeps its 401.
  assert.equal((await get(`${base}/metrics`)).status, 401);
  server.child.kill('SIGTERM');
  assert.equal(await server.exit, 0);
});

test('METRICS_PORT with one process: served by the process itself, on 127.0.0.1 and on no other address', async (t) => {
  const { base, port } = await start(t, { METRICS_PORT: '0' });
  for (let i = 0; i < 3; i++) await get(`${base}/health`);
  const scrape = await get(`http://127.0.0.1:${port}/metrics`);
  assert.equal(scrape.status, 200);
  const metrics = parseMetrics(scrape.body);
  assert.equal(
    value(metrics, 'bookapi_http_requests_total', { method: 'GET', route: '/health', status_code: '200' }),
    3,
  );
  // No token configured: nothing on the API's port.
  assert.equal((await get(`${base}/metrics`)).status, 404);

  const others = [
    '127.0.0.2',
    '::1',
    ...Object.values(os.networkInterfaces())
      .flat()
      .flatMap((i) => (i && !i.internal && !i.address.startsWith('fe80') ? [i.address] : [])),
  ];
  for (const host of others) {
    const outcome = await new Promise<string>((resolve) => {
      const socket = net.connect({ host, port, timeout: 2000 });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve('timeout');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    assert.notEqual(outcome, 'connected', `METRICS_PORT answered on ${host}`);
  }
});
