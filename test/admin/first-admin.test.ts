// The first admin cannot be taken over: someone who signs up the name an
// operator later gives ADMIN_USERNAME gets no admin rights. Real server
// processes, on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { buildApp } from '../../src/app.js';
import { createDatabase } from '../../src/db/database.js';
import { FakeClock, TEST_DB, testConfig, testDatabaseUrl } from '../helpers.js';
import { call, type ServerProcess, startServer, stopServer } from '../process.js';

const attackerPassword = 'the attacker chose this';
const operatorPassword = 'the operator chose this';

/** A database for server processes: a SQLite file, or a PostgreSQL schema of its own. */
async function sharedDatabaseUrl(t: TestContext): Promise<string> {
  if (TEST_DB === 'postgres') return testDatabaseUrl(t);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-first-admin-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return `sqlite:${path.join(dir, 'books.db')}`;
}

/** Someone signs up before the operator first starts the server with ADMIN_USERNAME. */
async function signUpFirst(url: string, username: string, password: string): Promise<void> {
  const config = testConfig({ DATABASE_URL: url });
  const app = await buildApp({ config, db: createDatabase(config.database), clock: new FakeClock() });
  try {
    const res = await app.inject({ method: 'POST', url: '/signup', payload: { username, password } });
    assert.equal(res.statusCode, 201, res.body);
  } finally {
    await app.close();
  }
}

/** The exit code of a server that should refuse to start; fails the test if it listens instead. */
async function refusedToStart(server: ServerProcess): Promise<number | null> {
  const listening = server.ready().then(
    () => 'listening' as const,
    () => 'exited' as const,
  );
  const first = await Promise.race([server.exit.then(() => 'exited' as const), listening]);
  assert.equal(first, 'exited', `the server started:\n${server.output()}`);
  return server.exit;
}

async function isAdmin(url: string, username: string): Promise<boolean> {
  const db = createDatabase(testConfig({ DATABASE_URL: url }).database);
  try {
    const row = await db
      .selectFrom('users')
      .select('admin')
      .where('username', '=', username)
      .executeTakeFirst();
    return row?.admin === 1;
  } finally {
    await db.destroy();
  }
}

test('a pre-registered ADMIN_USERNAME with another password: the server refuses to start, saying why and what to do', async (t) => {
  const url = await sharedDatabaseUrl(t);
  await signUpFirst(url, 'root', attackerPassword);

  const server = startServer({ DATABASE_URL: url, ADMIN_USERNAME: 'root', ADMIN_PASSWORD: operatorPassword });
  t.after(() => stopServer(server));
  const code = await refusedToStart(server);
  assert.notEqual(code, 0);
  assert.ok(code === 1 || code === 2, `exit code ${code}`);
  const lines = server.output().trim().split('\n');
  const line = lines.find((l) => l.includes('ADMIN_USERNAME')) ?? '';
  assert.match(
    line,
    /^bookapi: ADMIN_USERNAME root is already registered \(as root\) by someone whose password is not ADMIN_PASSWORD; choose another ADMIN_USERNAME, or if that account is yours, promote it with `bookapi admin promote --username root` and its password$/,
    server.output(),
  );
  assert.equal(await isAdmin(url, 'root'), false, 'the account got no admin rights');
});

test('a pre-registered ADMIN_USERNAME whose password is ADMIN_PASSWORD is promoted', async (t) => {
  const url = await sharedDatabaseUrl(t);
  await signUpFirst(url, 'root', operatorPassword);

  const server = startServer({ DATABASE_URL: url, ADMIN_USERNAME: 'ROOT', ADMIN_PASSWORD: operatorPassword });
  t.after(() => stopServer(server));
  const base = await server.ready();
  const login = await call(base, 'POST', '/login', { username: 'root', password: operatorPassword });
  assert.equal(login.status, 201);
  const users = await call(base, 'GET', '/admin/users', undefined, {
    authorization: `Bearer ${login.body.token as string}`,
  });
  assert.equal(users.status, 200);
  assert.match(server.output(), /"event":"admin.initial".*"outcome":"promoted"/);
});

test('an ADMIN_USERNAME that looks like a registered name: the server refuses to start', async (t) => {
  const url = await sharedDatabaseUrl(t);
  await signUpFirst(url, 'r\u043E\u043Et', attackerPassword); // Cyrillic о

  const server = startServer({ DATABASE_URL: url, ADMIN_USERNAME: 'root', ADMIN_PASSWORD: operatorPassword });
  t.after(() => stopServer(server));
  const code = await refusedToStart(server);
  assert.ok(code === 1 || code === 2, `exit code ${code}`);
  assert.match(
    server.output(),
    /bookapi: ADMIN_USERNAME root looks the same as the registered user r\u043E\u043Et; choose another ADMIN_USERNAME/,
  );
  assert.equal(await isAdmin(url, 'r\u043E\u043Et'), false);
});
