// Login limits with real processes: shared by workers on one database, kept across a restart, without Redis.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { ORIGINAL_USER, TEST_DB, testDatabaseUrl } from '../helpers.js';
import { type ServerProcess, startServer, stopServer } from '../process.js';

async function databaseUrl(t: TestContext): Promise<string> {
  if (TEST_DB === 'postgres') return testDatabaseUrl(t);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-throttle-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return `sqlite:${path.join(dir, 'books.db')}`;
}

/** One request on a connection of its own, so node:cluster hands each to the next worker. */
function post(base: string, url: string, payload: unknown): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${url}`,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', connection: 'close' } },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'] as string | undefined,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(payload));
  });
}

async function startWorkers(env: Record<string, string>): Promise<{ server: ServerProcess; base: string }> {
  const server = startServer({ ...env, WORKERS: '2' });
  const base = await server.ready();
  const deadline = Date.now() + 30_000;
  while ((server.output().match(/Server listening/g) ?? []).length < 2 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  return { server, base };
}

test('WORKERS=2 without Redis: 5 failures per username and client in all, not 5 per worker; a restart keeps them', async (t) => {
  const env = { DATABASE_URL: await databaseUrl(t) };
  const first = await startWorkers(env);
  t.after(() => stopServer(first.server));
  assert.equal((await post(first.base, '/signup', ORIGINAL_USER)).status, 201);
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) {
    statuses.push((await post(first.base, '/login', { ...ORIGINAL_USER, password: `wrong ${i}` })).status);
  }
  const served = new Set(
    [...first.server.output().matchAll(/"pid":(\d+)[^\n]*"url":"\/login"/g)].map((m) => m[1]),
  );
  assert.equal(served.size, 2, 'both workers answered logins');
  assert.deepEqual(statuses, [...Array(5).fill(401), ...Array(5).fill(429)]);

  first.server.child.kill('SIGTERM');
  assert.equal(await first.server.exit, 0);
  const second = startServer(env);
  t.after(() => stopServer(second));
  const after = await post(await second.ready(), '/login', ORIGINAL_USER);
  assert.equal(after.status, 429, 'still throttled after the restart, even with the right password');
  assert.ok(Number(after.retryAfter) > 0 && Number(after.retryAfter) <= 15 * 60, after.retryAfter);
});
