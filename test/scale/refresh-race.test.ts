// Refreshes of one token racing across two real server processes on one database: one
// PostgreSQL database, or one SQLite file shared by two processes.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { ORIGINAL_USER, TEST_DB, testDatabaseUrl } from '../helpers.js';
import { call, type ServerProcess, startServer, stopServer } from '../process.js';

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-refresh-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function databaseUrl(t: TestContext): Promise<string> {
  if (TEST_DB === 'postgres') return testDatabaseUrl(t);
  return `sqlite:${path.join(tempDir(t), 'books.db')}`;
}

/** Two instances on one database; the second starts once the first has migrated it. */
async function twoInstances(t: TestContext, envA: Record<string, string>, envB = envA) {
  const start = async (env: Record<string, string>) => {
    const server: ServerProcess = startServer(env);
    t.after(() => stopServer(server));
    return { server, base: await server.ready() };
  };
  const a = await start(envA);
  const b = await start(envB);
  return { a, b };
}

const refresh = (base: string, token: string) =>
  call(base, 'POST', '/token/refresh', { refresh_token: token });

async function loginOn(base: string) {
  await call(base, 'POST', '/signup', ORIGINAL_USER);
  const res = await call(base, 'POST', '/login', ORIGINAL_USER);
  assert.equal(res.status, 201);
  return res.body as { token: string; refresh_token: string };
}

test('20 refreshes of one token racing on two instances: one successor, one chain', async (t) => {
  const url = await databaseUrl(t);
  const env = { DATABASE_URL: url, REFRESH_REUSE_GRACE: '60s' };
  const { a, b } = await twoInstances(t, env);
  const first = await loginOn(a.base);

  // The token's first use and its replays all at once, half on each instance.
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) => refresh(i % 2 ? b.base : a.base, first.refresh_token)),
  );
  assert.deepEqual(
    answers.map((r) => r.status),
    Array(20).fill(201),
    JSON.stringify(answers.find((r) => r.status !== 201)),
  );
  const successors = new Set(answers.map((r) => r.body.refresh_token));
  assert.equal(successors.size, 1, `${successors.size} chains`);
  const [successor = ''] = [...successors] as string[];
  for (const r of answers.slice(0, 4)) {
    const me = await call(b.base, 'GET', '/me', undefined, { authorization: `Bearer ${r.body.token}` });
    assert.equal(me.status, 200);
  }

  // Again with the successor: replays of a spent token get the same next one on both instances.
  const second = await Promise.all(
    Array.from({ length: 10 }, (_, i) => refresh(i % 2 ? a.base : b.base, successor)),
  );
  assert.deepEqual(new Set(second.map((r) => r.status)), new Set([201]));
  assert.equal(new Set(second.map((r) => r.body.refresh_token)).size, 1);
  const live = second[0]?.body as { token: string; refresh_token: string };

  // The chain has moved on twice: the first token now ends the session everywhere.
  assert.equal((await refresh(b.base, first.refresh_token)).status, 401);
  assert.equal((await refresh(a.base, live.refresh_token)).status, 401);
  const me = await call(a.base, 'GET', '/me', undefined, { authorization: `Bearer ${live.token}` });
  assert.equal(me.status, 401);
});

test('instances that do not share JWT_SECRET: a retry on the other one fails safe (401, session ended)', async (t) => {
  const url = await databaseUrl(t);
  // A shared key ring but no JWT_SECRET: each instance generates a secret of its own.
  const { privateKey } = generateKeyPairSync('ed25519');
  const keys = JSON.stringify({
    keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'k1', alg: 'EdDSA' }],
  });
  const common = { DATABASE_URL: url, JWT_SECRET: '', JWT_KEYS: keys, REFRESH_REUSE_GRACE: '60s' };
  const { a, b } = await twoInstances(
    t,
    { ...common, DATA_DIR: tempDir(t) },
    { ...common, DATA_DIR: tempDir(t) },
  );
  const first = await loginOn(a.base);
  const rotated = await refresh(a.base, first.refresh_token);
  assert.equal(rotated.status, 201);
  const live = rotated.body as { token: string; refresh_token: string };
  // Access tokens verify on both (same key ring) …
  const me = await call(b.base, 'GET', '/me', undefined, { authorization: `Bearer ${live.token}` });
  assert.equal(me.status, 200);
  // … but B cannot name A's successor: it refuses and ends the session rather than branch it.
  const retry = await refresh(b.base, first.refresh_token);
  assert.deepEqual(retry, {
    status: 401,
    body: { message: 'Invalid refresh token!', code: 'REFRESH_INVALID' },
  });
  assert.equal((await refresh(a.base, live.refresh_token)).status, 401);
  // The log line travels through a pipe and may arrive after the answer.
  const deadline = Date.now() + 5000;
  while (!b.server.output().includes('"event":"refresh.reuse_detected"') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  assert.match(b.server.output(), /"event":"refresh.reuse_detected"[^\n]*"reason":"successor-unknown"/);
});
