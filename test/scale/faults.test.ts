// The database going away and coming back, with a real server process in between.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { ORIGINAL_USER, TEST_DB, testDatabaseUrl } from '../helpers.js';
import { call, startServer, stopServer } from '../process.js';

const postgresOnly =
  TEST_DB === 'postgres' ? {} : { skip: 'runs in the PostgreSQL suite (set TEST_POSTGRES_URL)' };

/**
 * A TCP relay to PostgreSQL that the test can break like a network: cut
 * (open connections dropped, new ones refused) or freeze (connections open
 * and accepted, but nothing forwarded either way until they thaw).
 */
class FaultyLink {
  private server: net.Server | undefined;
  private readonly relays = new Set<Relay>();
  private freezeNew = false;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async up(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      const relay: Relay = { sockets: [client, upstream], frozen: this.freezeNew, held: [] };
      this.relays.add(relay);
      // Everything, the end of a stream and a reset included, waits while frozen.
      const pass = (step: () => void) => (relay.frozen ? relay.held.push(step) : step());
      for (const [from, to] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        from.on('data', (chunk) => pass(() => to.write(chunk)));
        from.on('end', () => pass(() => to.end()));
        from.on('error', () => pass(() => to.destroy()));
        from.on('close', () => {
          if (client.destroyed && upstream.destroyed) this.relays.delete(relay);
        });
      }
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Refuses new connections and drops the open ones. */
  async cut(): Promise<void> {
    for (const relay of this.relays) for (const s of relay.sockets) s.destroy();
    this.relays.clear();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** The database stops answering: open and new connections stay up, nothing gets through. */
  freeze(): void {
    this.freezeNew = true;
    for (const relay of this.relays) relay.frozen = true;
  }

  /**
   * New connections get through again; so does what the open ones held back,
   * unless `stranded`: then those stay frozen for good, as after a failover
   * that leaves the old connections black-holed.
   */
  thaw({ stranded = false } = {}): void {
    this.freezeNew = false;
    if (stranded) return;
    for (const relay of this.relays) {
      relay.frozen = false;
      for (const step of relay.held.splice(0)) step();
    }
  }
}

interface Relay {
  sockets: [net.Socket, net.Socket];
  frozen: boolean;
  held: (() => void)[];
}

/** A real server whose only way to PostgreSQL is a FaultyLink; a user logged in, one request served. */
async function behindLink(t: TestContext, env: Record<string, string> = {}) {
  const direct = new URL(await testDatabaseUrl(t));
  const link = new FaultyLink({ host: direct.hostname, port: Number(direct.port || 5432) });
  await link.up();
  t.after(() => link.cut());
  const viaLink = new URL(direct);
  viaLink.host = `127.0.0.1:${link.port}`;
  const server = startServer({ DATABASE_URL: viaLink.toString(), ...env });
  t.after(() => stopServer(server));
  const base = await server.ready();
  await call(base, 'POST', '/signup', ORIGINAL_USER);
  const { token } = (await call(base, 'POST', '/login', ORIGINAL_USER)).body as { token: string };
  const headers = { authorization: `Bearer ${token}` };
  assert.equal((await call(base, 'GET', '/bookapi/books', undefined, headers)).status, 200);
  return { link, server, base, headers };
}

/** Polls until the list answers 200 again, or gives up after `ms`. */
async function recovered(base: string, headers: Record<string, string>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if ((await call(base, 'GET', '/bookapi/books', undefined, headers)).status === 200) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

test(
  'database down: 503 with Retry-After, /ready 503, /health 200, no crash, recovery by itself',
  postgresOnly,
  async (t) => {
    const { link, server, base, headers } = await behindLink(t);

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
    assert.ok(await recovered(base, headers, 15_000), 'recovered without a restart');
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

/** DB_QUERY_TIMEOUT in the freeze test, and how late a 503 may come: a wait for a connection, then a query. */
const QUERY_TIMEOUT_S = 1;
const BOUND_MS = 2 * QUERY_TIMEOUT_S * 1000 + 500;

test(
  'database frozen (connections open, no answers): 503 with Retry-After within the query timeout, recovery',
  postgresOnly,
  async (t) => {
    const { link, server, base, headers } = await behindLink(t, {
      DB_QUERY_TIMEOUT: String(QUERY_TIMEOUT_S),
      DB_POOL_SIZE: '2',
    });
    const timed = async (method: string, url: string, payload?: unknown) => {
      const started = Date.now();
      const res = await fetch(`${base}${url}`, {
        signal: AbortSignal.timeout(15_000),
        method,
        headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) },
        body: payload ? JSON.stringify(payload) : undefined,
      });
      return { label: `${method} ${url}`, res, ms: Date.now() - started, body: await res.text() };
    };
    const unavailable = async (answers: Awaited<ReturnType<typeof timed>>[]) => {
      for (const { label, res, ms, body } of answers) {
        assert.equal(res.status, 503, `${label}: ${body}`);
        assert.match(String(res.headers.get('retry-after')), /^\d+$/, label);
        assert.ok(ms < BOUND_MS, `${label} answered after ${ms} ms`);
      }
    };

    link.freeze();
    // More requests at once than the pool has connections: some wait for one, none for ever.
    await unavailable(
      await Promise.all([
        timed('GET', '/bookapi/books'),
        timed('GET', '/bookapi/books/1'),
        timed('POST', '/bookapi/books', { title: 'During the freeze', author: 'Nobody' }),
        timed('POST', '/login', ORIGINAL_USER),
        timed('GET', '/ready'),
      ]),
    );
    // And again, one at a time, on the connections the pool opens meanwhile.
    await unavailable([await timed('GET', '/bookapi/books'), await timed('GET', '/ready')]);
    const health = await timed('GET', '/health');
    assert.equal(health.res.status, 200);

    // New connections get through, the old ones stay frozen for good: none of those may be reused.
    link.thaw({ stranded: true });
    assert.ok(await recovered(base, headers, 5000), `recovered:\n${server.output().slice(-3000)}`);
    for (let i = 0; i < 6; i++) {
      const { res, body } = await timed('GET', '/bookapi/books');
      assert.equal(res.status, 200, `request ${i} after recovery: ${body}`);
    }
    assert.equal((await timed('GET', '/ready')).res.status, 200);

    link.thaw();
    const created = await timed('POST', '/bookapi/books', { title: 'After the freeze', author: 'Somebody' });
    assert.equal(created.res.status, 201, created.body);
    assert.equal(server.child.exitCode, null, 'still running');
    assert.doesNotMatch(server.output(), /"level":60|uncaught/i);
  },
);

/** A server on a SQLite file of its own, which the test may open as another process would. */
async function serveSqliteFile(t: TestContext, env: Record<string, string> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-lock-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'books.db');
  const server = startServer({ DATABASE_URL: `sqlite:${file}`, ...env });
  t.after(() => stopServer(server));
  return { file, base: await server.ready() };
}

test(
  'SQLite: another process holding the write lock past DB_QUERY_TIMEOUT: writes 503 with Retry-After, reads go on',
  TEST_DB === 'sqlite' ? {} : { skip: 'runs in the SQLite suite' },
  async (t) => {
    const { file, base } = await serveSqliteFile(t, { DB_QUERY_TIMEOUT: '1' });
    await call(base, 'POST', '/signup', ORIGINAL_USER);
    const { token } = (await call(base, 'POST', '/login', ORIGINAL_USER)).body as { token: string };
    const headers = { authorization: `Bearer ${token}` };

    const other = new SQLite(file);
    t.after(() => other.close());
    other.exec('begin immediate');
    const started = Date.now();
    const res = await fetch(`${base}/bookapi/books`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Locked out', author: 'Nobody' }),
    });
    const ms = Date.now() - started;
    assert.equal(res.status, 503, await res.text());
    assert.match(String(res.headers.get('retry-after')), /^\d+$/);
    assert.ok(ms >= 900 && ms < 2500, `answered after ${ms} ms`);
    // WAL: readers never wait for a writer.
    assert.equal((await call(base, 'GET', '/bookapi/books', undefined, headers)).status, 200);
    assert.equal((await call(base, 'GET', '/ready')).status, 200);

    other.exec('rollback');
    const created = await call(
      base,
      'POST',
      '/bookapi/books',
      { title: 'Unlocked', author: 'Somebody' },
      headers,
    );
    assert.equal(created.status, 201);
  },
);

test(
  'SQLite: a demotion that reads the admins before it writes waits for another process’s write lock, as every write does',
  TEST_DB === 'sqlite' ? {} : { skip: 'runs in the SQLite suite' },
  async (t) => {
    const { file, base } = await serveSqliteFile(t);
    const root = { username: 'root', password: ORIGINAL_USER.password };
    await call(base, 'POST', '/signup', root);
    await call(base, 'POST', '/signup', ORIGINAL_USER);
    const other = new SQLite(file);
    t.after(() => other.close());
    other.exec('update users set admin = 1');
    const target = other
      .prepare('select public_id from users where username = ?')
      .get(ORIGINAL_USER.username) as {
      public_id: string;
    };
    const { token } = (await call(base, 'POST', '/login', root)).body as { token: string };

    for (let i = 0; i < 3; i++) {
      // Another process is in the middle of a write, and commits 300 ms later.
      other.exec('begin immediate');
      other.exec("update data_versions set version = version where name = 'books'");
      const release = setTimeout(() => other.exec('commit'), 300);
      const res = await call(
        base,
        'PATCH',
        `/admin/users/${target.public_id}`,
        { admin: i % 2 === 1 },
        { authorization: `Bearer ${token}` },
      );
      clearTimeout(release);
      if (other.inTransaction) other.exec('commit');
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
  },
);
