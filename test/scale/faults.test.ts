// The database going away and coming back, with a real server process in between.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { ORIGINAL_USER, TEST_DB, testDatabaseUrl } from '../helpers.js';
import { call, startServer, stopServer } from '../process.js';

const postgresOnly =
  TEST_DB === 'postgres' ? {} : { skip: 'runs in the PostgreSQL suite (set TEST_POSTGRES_URL)' };

/** A TCP relay to PostgreSQL that the test can cut and restore, like a network failure. */
class CuttableLink {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async up(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Refuses new connections and drops the open ones. */
  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

test(
  'database down: 503 with Retry-After, /ready 503, /health 200, no crash, recovery by itself',
  postgresOnly,
  async (t) => {
    const direct = new URL(await testDatabaseUrl(t));
    const link = new CuttableLink({ host: direct.hostname, port: Number(direct.port || 5432) });
    await link.up();
    t.after(() => link.cut());
    const viaLink = new URL(direct);
    viaLink.host = `127.0.0.1:${link.port}`;
    const server = startServer({ DATABASE_URL: viaLink.toString() });
    t.after(() => stopServer(server));
    const base = await server.ready();
    await call(base, 'POST', '/signup', ORIGINAL_USER);
    const { token } = (await call(base, 'POST', '/login', ORIGINAL_USER)).body as { token: string };
    const headers = { authorization: `Bearer ${token}` };
    assert.equal((await call(base, 'GET', '/bookapi/books', undefined, headers)).status, 200);

    await link.cut();
    for (const [method, url, payload] of [
      ['GET', '/bookapi/books', undefined],
      ['POST', '/bookapi/books', { title: 'During the outage', author: 'Nobody' }],
      ['GET', '/bookapi/books', undefined],
    ] as const) {
      const res = await fetch(`${base}${url}`, {
        signal: AbortSignal.timeout(10_000),
        method,
        headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) },
        body: payload ? JSON.stringify(payload) : undefined,
      });
      assert.equal(res.status, 503, `${method} ${url}: ${server.output().slice(-3000)}`);
      assert.deepEqual(await res.json(), { message: 'Service unavailable', code: 'SERVICE_UNAVAILABLE' });
      assert.match(String(res.headers.get('retry-after')), /^\d+$/);
    }
    assert.equal((await call(base, 'GET', '/ready')).status, 503);
    assert.equal((await call(base, 'GET', '/health')).status, 200);
    assert.equal(server.child.exitCode, null, 'still running');

    await link.up();
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await call(base, 'GET', '/bookapi/books', undefined, headers)).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(status, 200, 'recovered without a restart');
    assert.equal((await call(base, 'GET', '/ready')).status, 200);
    const created = await call(
      base,
      'POST',
      '/bookapi/books',
      { title: 'After the outage', author: 'Somebody' },
      headers,
    );
    assert.equal(created.status, 201);
    assert.doesNotMatch(server.output(), /"level":60|uncaught/i);
  },
);
