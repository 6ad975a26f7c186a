// Process lifecycle: graceful shutdown with requests in flight, several workers, and kill -9 under writes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { ORIGINAL_USER, TEST_DB, testDatabaseUrl } from '../helpers.js';
import { call, startServer, stopServer } from '../process.js';

async function databaseUrl(
  t: Parameters<typeof testDatabaseUrl>[0],
): Promise<{ url: string; file?: string }> {
  if (TEST_DB === 'postgres') return { url: await testDatabaseUrl(t) };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-life-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'books.db');
  return { url: `sqlite:${file}`, file };
}

test('SIGTERM: requests in flight finish with their answers, then the process exits 0', async (t) => {
  const { url } = await databaseUrl(t);
  const server = startServer({
    DATABASE_URL: url,
    LOGIN_IP_MAX_FAILURES: '1000',
    LOGIN_MAX_FAILURES: '1000',
  });
  t.after(() => stopServer(server));
  const base = await server.ready();
  assert.equal((await call(base, 'POST', '/signup', ORIGINAL_USER)).status, 201);
  // Logins cost an argon2 verify each (tens of ms, four at a time): once all 12 have reached the
  // server, most are still being verified when the signal lands.
  let signalledAt = 0;
  const finishedAt: number[] = [];
  const inFlight = Array.from({ length: 12 }, () =>
    call(base, 'POST', '/login', ORIGINAL_USER).then((a) => {
      finishedAt.push(Date.now());
      return a;
    }),
  );
  while ((server.output().match(/"url":"\/login"/g) ?? []).length < 12)
    await new Promise((r) => setTimeout(r, 2));
  signalledAt = Date.now();
  server.child.kill('SIGTERM');
  const answers = await Promise.all(inFlight);
  assert.deepEqual(
    answers.map((a) => a.status),
    Array(12).fill(201),
  );
  assert.ok(
    finishedAt.some((at) => at > signalledAt),
    'some requests finished after the signal',
  );
  assert.equal(await server.exit, 0);
  assert.match(server.output(), /shutting down/);
});

test('WORKERS=2: two worker processes share the port and the database; SIGTERM stops them all', async (t) => {
  const { url } = await databaseUrl(t);
  const server = startServer({ DATABASE_URL: url, WORKERS: '2', SIGNUP_IP_MAX: '1000' });
  t.after(() => stopServer(server));
  const base = await server.ready();
  // Wait for the second worker as well.
  const deadline = Date.now() + 30_000;
  while ((server.output().match(/Server listening/g) ?? []).length < 2 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const pids = new Set([...server.output().matchAll(/"pid":(\d+)[^\n]*Server listening/g)].map((m) => m[1]));
  assert.equal(pids.size, 2, server.output());
  const signups = await Promise.all(
    Array.from({ length: 16 }, (_, i) =>
      call(base, 'POST', '/signup', { username: `worker${i}`, password: ORIGINAL_USER.password }),
    ),
  );
  assert.deepEqual(
    signups.map((s) => s.status),
    Array(16).fill(201),
  );
  const served = new Set(
    [...server.output().matchAll(/"pid":(\d+)[^\n]*"url":"\/signup"/g)].map((m) => m[1]),
  );
  assert.equal(served.size, 2, 'both workers served requests');
  server.child.kill('SIGTERM');
  assert.equal(await server.exit, 0);
});

test('kill -9 under a write load: the database is intact and every acknowledged write is there', async (t) => {
  const { url, file } = await databaseUrl(t);
  const server = startServer({ DATABASE_URL: url });
  t.after(() => stopServer(server));
  const base = await server.ready();
  await call(base, 'POST', '/signup', ORIGINAL_USER);
  const { token } = (await call(base, 'POST', '/login', ORIGINAL_USER)).body as { token: string };
  const headers = { authorization: `Bearer ${token}` };
  const acknowledged: number[] = [];
  let stop = false;
  let n = 0;
  const writer = async () => {
    while (!stop) {
      const i = n++;
      try {
        const res = await call(
          base,
          'POST',
          '/bookapi/books',
          { title: `Book ${i}`, author: 'Load' },
          headers,
        );
        if (res.status === 201) acknowledged.push(res.body.id as number);
      } catch {
        return; // the connection died with the server
      }
    }
  };
  const writers = Array.from({ length: 8 }, writer);
  await new Promise((r) => setTimeout(r, 1500));
  server.child.kill('SIGKILL');
  stop = true;
  await Promise.all(writers);
  await server.exit;
  assert.ok(acknowledged.length > 20, `only ${acknowledged.length} writes acknowledged`);

  let stored: Set<number>;
  if (file) {
    const db = new SQLite(file);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    stored = new Set((db.prepare('select id from books').all() as { id: number }[]).map((r) => r.id));
    db.close();
  } else {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    // A bare pg client reads bigint ids as strings.
    stored = new Set(
      (await client.query<{ id: string }>('select id from books')).rows.map((r) => Number(r.id)),
    );
    await client.end();
  }
  const missing = acknowledged.filter((id) => !stored.has(id));
  assert.deepEqual(missing, [], 'acknowledged writes lost');

  // And it starts again on the same database.
  const again = startServer({ DATABASE_URL: url });
  t.after(() => stopServer(again));
  const base2 = await again.ready();
  const list = await call(base2, 'GET', `/bookapi/books?limit=1000`, undefined, headers);
  assert.equal(list.status, 200);
  again.child.kill('SIGTERM');
  assert.equal(await again.exit, 0);
});
