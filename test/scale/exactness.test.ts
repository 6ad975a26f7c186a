// Revocation stays exact with every cache on the hot path: two real server processes on one
// SQLite file, or two instances on one PostgreSQL database, under concurrent load. Whatever one
// of them changes is refused (or shown) by both on the very next request, trial after trial;
// what a transaction wrote and rolled back is never seen.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import SQLite from 'better-sqlite3';
import type { LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { SharedRead } from '../../src/db/hot-path.js';
import { build, loginPair, status, TEST_DB, testDatabaseUrl } from '../helpers.js';
import { call, type JsonAnswer, type ServerProcess, startServer, stopServer } from '../process.js';

const TRIALS = 8;
const PASSWORDS = ['exactness passphrase one', 'exactness passphrase two'];
const ADMIN = { username: 'root', password: 'root passphrase for exactness' };

interface Shared {
  a: string;
  b: string;
  /** The database as the test reaches it, outside both servers. */
  url: string;
  file?: string;
}

async function twoInstances(t: TestContext): Promise<Shared> {
  let url: string;
  let file: string | undefined;
  if (TEST_DB === 'postgres') {
    url = await testDatabaseUrl(t);
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-exact-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    file = path.join(dir, 'books.db');
    url = `sqlite:${file}`;
  }
  const env = {
    DATABASE_URL: url,
    LOG_LEVEL: 'warn',
    REFRESH_REUSE_GRACE: '0',
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    SIGNUP_IP_MAX: '10000',
    LOGIN_IP_MAX_FAILURES: '10000',
  };
  const start = async () => {
    const server: ServerProcess = startServer({ ...env, LOG_LEVEL: 'info' });
    t.after(() => stopServer(server));
    return server.ready();
  };
  // One after the other: the second finds the database migrated and the admin created.
  const a = await start();
  const b = await start();
  return { a, b, url, file };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The same request on both instances at once. */
function onBoth(s: Shared, method: string, url: string, token: string): Promise<JsonAnswer[]> {
  return Promise.all([s.a, s.b].map((base) => call(base, method, url, undefined, bearer(token))));
}

async function account(base: string, username: string, password = PASSWORDS[0] as string) {
  const signup = await call(base, 'POST', '/signup', { username, password });
  assert.equal(signup.status, 201, JSON.stringify(signup.body));
  return login(base, username, password);
}

async function login(base: string, username: string, password = PASSWORDS[0] as string) {
  const res = await call(base, 'POST', '/login', { username, password });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { token: string; refresh_token: string };
}

/** Requests on both instances all along, so every check below runs under load and warm caches. */
function backgroundLoad(s: Shared, token: string) {
  let running = true;
  const failures: string[] = [];
  let served = 0;
  const urls = ['/bookapi/books', '/me', '/bookapi/books?limit=5'];
  const loops = [s.a, s.b, s.a, s.b, s.a, s.b].map(async (base, i) => {
    for (let n = i; running; n++) {
      const res = await call(base, 'GET', urls[n % urls.length] as string, undefined, bearer(token));
      if (res.status !== 200) failures.push(`${res.status} ${JSON.stringify(res.body)}`);
      served++;
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { served, failures };
    },
  };
}

function assertRefused(answers: JsonAnswer[], status: number, code: string, what: string): void {
  assert.deepEqual(
    answers.map((r) => [r.status, r.body.code]),
    [
      [status, code],
      [status, code],
    ],
    what,
  );
}

function assertServed(answers: JsonAnswer[], what: string): void {
  assert.deepEqual(
    answers.map((r) => r.status),
    [200, 200],
    `${what}: ${JSON.stringify(answers.map((r) => r.body))}`,
  );
}

/** A transaction on the shared database, outside both servers, that sets a flag and is rolled back. */
async function withUncommittedAdmin(s: Shared, username: string, check: () => Promise<void>): Promise<void> {
  if (s.file !== undefined) {
    const db = new SQLite(s.file);
    try {
      db.exec('begin immediate');
      db.prepare('update users set admin = 1 where username = ?').run(username);
      await check();
      db.exec('rollback');
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: s.url });
  await client.connect();
  try {
    await client.query('begin');
    await client.query('update users set admin = 1 where username = $1', [username]);
    await check();
    await client.query('rollback');
  } finally {
    await client.end();
  }
}

test(`exact on two instances sharing one ${TEST_DB === 'postgres' ? 'PostgreSQL database' : 'SQLite file'}, under load`, async (t) => {
  const s = await twoInstances(t);
  const admin = await login(s.a, ADMIN.username, ADMIN.password);
  const loadUser = await account(s.b, 'load');
  const load = backgroundLoad(s, loadUser.token);
  t.after(() => load.stop());
  const on = (i: number) => (i % 2 === 0 ? [s.a, s.b] : [s.b, s.a]) as [string, string];

  await t.test('logout on one: the token is refused by both at once', async () => {
    for (let i = 0; i < TRIALS; i++) {
      const [here] = on(i);
      const { token } = await account(here, `logout${i}`);
      assertServed(await onBoth(s, 'GET', '/bookapi/books', token), `trial ${i} before`);
      assert.equal((await call(here, 'POST', '/logout', undefined, bearer(token))).status, 200);
      assertRefused(await onBoth(s, 'GET', '/bookapi/books', token), 401, 'TOKEN_REVOKED', `trial ${i}`);
    }
  });

  await t.test('logout of all sessions on one: every session refused by both', async () => {
    for (let i = 0; i < TRIALS; i++) {
      const [here, there] = on(i);
      const first = await account(here, `everywhere${i}`);
      const second = await login(there, `everywhere${i}`);
      for (const { token } of [first, second])
        assertServed(await onBoth(s, 'GET', '/me', token), `trial ${i}`);
      assert.equal((await call(here, 'POST', '/logout/all', undefined, bearer(first.token))).status, 200);
      for (const { token } of [first, second])
        assertRefused(await onBoth(s, 'GET', '/me', token), 401, 'TOKEN_REVOKED', `trial ${i}`);
    }
  });

  await t.test('password change on one: the other sessions are refused by both', async () => {
    const { token: other } = await account(s.a, 'changer');
    for (let i = 0; i < TRIALS; i++) {
      const [here, there] = on(i);
      const [current, next] = [PASSWORDS[i % 2] as string, PASSWORDS[(i + 1) % 2] as string];
      const fresh = await login(here, 'changer', current);
      const elsewhere = i === 0 ? other : (await login(there, 'changer', current)).token;
      assertServed(await onBoth(s, 'GET', '/bookapi/books', elsewhere), `trial ${i} before`);
      const changed = await call(
        here,
        'PUT',
        '/me/password',
        { current_password: current, new_password: next },
        bearer(fresh.token),
      );
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assertRefused(await onBoth(s, 'GET', '/bookapi/books', elsewhere), 401, 'TOKEN_REVOKED', `trial ${i}`);
      assertServed(await onBoth(s, 'GET', '/bookapi/books', fresh.token), `trial ${i}: the changing session`);
    }
  });

  await t.test('disable on one: the account’s tokens are refused by both', async () => {
    for (let i = 0; i < TRIALS; i++) {
      const [here] = on(i);
      const { token } = await account(here, `disabled${i}`);
      const me = await call(here, 'GET', '/me', undefined, bearer(token));
      assertServed(await onBoth(s, 'GET', '/bookapi/books', token), `trial ${i} before`);
      const res = await call(
        here,
        'PATCH',
        `/admin/users/${me.body.public_id}`,
        { disabled: true },
        bearer(admin.token),
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assertRefused(await onBoth(s, 'GET', '/bookapi/books', token), 401, 'TOKEN_REVOKED', `trial ${i}`);
    }
  });

  await t.test('demotion on one: admin routes refused by both', async () => {
    const { token } = await account(s.b, 'promoted');
    const { public_id } = (await call(s.b, 'GET', '/me', undefined, bearer(token))).body;
    for (let i = 0; i < TRIALS; i++) {
      const [here, there] = on(i);
      const set = (value: boolean, base: string) =>
        call(base, 'PATCH', `/admin/users/${public_id}`, { admin: value }, bearer(admin.token));
      assert.equal((await set(true, there)).status, 200);
      assertServed(await onBoth(s, 'GET', '/admin/users', token), `trial ${i}: promoted`);
      assert.equal((await set(false, here)).status, 200);
      assertRefused(await onBoth(s, 'GET', '/admin/users', token), 403, 'ADMIN_REQUIRED', `trial ${i}`);
    }
  });

  await t.test('refresh reuse detected on one: the session is refused by both', async () => {
    for (let i = 0; i < TRIALS; i++) {
      const [here, there] = on(i);
      const first = await account(here, `reuse${i}`);
      const rotated = await call(there, 'POST', '/token/refresh', { refresh_token: first.refresh_token });
      assert.equal(rotated.status, 201);
      const { token } = rotated.body as { token: string };
      assertServed(await onBoth(s, 'GET', '/bookapi/books', token), `trial ${i} before`);
      const replay = await call(here, 'POST', '/token/refresh', { refresh_token: first.refresh_token });
      assert.equal(replay.status, 401);
      assertRefused(await onBoth(s, 'GET', '/bookapi/books', token), 401, 'TOKEN_REVOKED', `trial ${i}`);
    }
  });

  await t.test('a personal access token revoked on one is refused by both at once', async () => {
    for (let i = 0; i < TRIALS; i++) {
      const [here, there] = on(i);
      const owner = await account(there, `scripted${i}`);
      const made = await call(
        there,
        'POST',
        '/me/tokens',
        { name: `cron ${i}`, scopes: ['books:read'] },
        bearer(owner.token),
      );
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const { id, token } = made.body as { id: string; token: string };
      assertServed(await onBoth(s, 'GET', '/bookapi/books', token), `trial ${i} before`);
      const revoked = await call(here, 'DELETE', `/me/tokens/${id}`, undefined, bearer(owner.token));
      assert.equal(revoked.status, 200);
      assertRefused(await onBoth(s, 'GET', '/bookapi/books', token), 401, 'TOKEN_REVOKED', `trial ${i}`);
    }
  });

  await t.test('a device ended on one: its session is refused by both at once', async () => {
    for (let i = 0; i < TRIALS; i++) {
      const [here, there] = on(i);
      const phone = await account(there, `device${i}`);
      const laptop = await login(here, `device${i}`);
      const listed = await call(here, 'GET', '/me/sessions', undefined, bearer(laptop.token));
      const sessions = listed.body.sessions as { id: string; current: boolean }[];
      assert.equal(sessions.length, 2);
      const phoneId = sessions.find((d) => !d.current)?.id;
      assertServed(await onBoth(s, 'GET', '/me', phone.token), `trial ${i} before`);
      const ended = await call(here, 'DELETE', `/me/sessions/${phoneId}`, undefined, bearer(laptop.token));
      assert.equal(ended.status, 200);
      assertRefused(await onBoth(s, 'GET', '/me', phone.token), 401, 'TOKEN_REVOKED', `trial ${i}`);
      assertServed(await onBoth(s, 'GET', '/me', laptop.token), `trial ${i}: the other device`);
    }
  });

  await t.test('a book added or deleted on one is seen by both on the next request', async () => {
    const { token } = await account(s.a, 'reader');
    let after = 0;
    for (let i = 0; i < TRIALS; i++) {
      const [here, there] = on(i);
      const page = after === 0 ? '/bookapi/books' : `/bookapi/books?after=${after}`;
      const before = await onBoth(s, 'GET', page, token);
      assertServed(before, `trial ${i}: ${page}`);
      const created = await call(
        here,
        'POST',
        '/bookapi/books',
        { title: `Exact ${i}`, author: 'Trial' },
        bearer(token),
      );
      assert.equal(created.status, 201);
      const id = created.body.id as number;
      for (const res of await onBoth(s, 'GET', page, token)) {
        const titles = (res.body.Books as { title: string }[]).map((b) => b.title);
        assert.ok(
          titles.includes(`Exact ${i}`),
          `trial ${i}: ${titles} (before: ${before.map((r) => r.status)})`,
        );
      }
      assertServed(await onBoth(s, 'GET', `/bookapi/books/${id}`, token), `trial ${i}: the new book`);
      assert.equal(
        (await call(there, 'DELETE', `/bookapi/books/${id}`, undefined, bearer(token))).status,
        200,
      );
      assertRefused(
        await onBoth(s, 'GET', `/bookapi/books/${id}`, token),
        404,
        'BOOK_NOT_FOUND',
        `trial ${i}`,
      );
      for (const res of await onBoth(s, 'GET', page, token))
        assert.ok(!(res.body.Books as { id: number }[]).some((b) => b.id === id), `trial ${i}: deleted`);
      after = id;
    }
  });

  await t.test('a transaction rolled back is never seen: not while open, not after', async () => {
    const { token } = await account(s.a, 'hopeful');
    for (let i = 0; i < TRIALS; i++) {
      assertRefused(
        await onBoth(s, 'GET', '/admin/users', token),
        403,
        'ADMIN_REQUIRED',
        `trial ${i} before`,
      );
      await withUncommittedAdmin(s, 'hopeful', async () => {
        assertRefused(
          await onBoth(s, 'GET', '/admin/users', token),
          403,
          'ADMIN_REQUIRED',
          `trial ${i} open`,
        );
      });
      assertRefused(await onBoth(s, 'GET', '/admin/users', token), 403, 'ADMIN_REQUIRED', `trial ${i} after`);
    }
  });

  const { served, failures } = await load.stop();
  assert.deepEqual(failures, [], 'the background load was served throughout');
  assert.ok(served > 100, `background load: ${served} requests`);
});

test('a request made while this process has a transaction open never sees its writes', async (t) => {
  const { app, db } = await build(t);
  const mallory = await loginPair(app, 'mallory');
  for (let i = 0; i < TRIALS; i++) {
    assert.equal(await status(app, '/admin/users', mallory.headers), 403);
    let pending: Promise<LightMyRequestResponse> | undefined;
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await trx.updateTable('users').set({ admin: 1 }).where('username', '=', 'mallory').execute();
        await trx.insertInto('books').values(book(i)).execute();
        pending = app.inject({ method: 'GET', url: '/admin/users', headers: mallory.headers });
        // Long enough for the request to reach the guard while the transaction is open.
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('rolled back');
      }),
      /rolled back/,
    );
    assert.equal((await pending)?.statusCode, 403, `trial ${i}`);
    const list = await app.inject({ method: 'GET', url: '/bookapi/books', headers: mallory.headers });
    assert.deepEqual(JSON.parse(list.body), { Books: [] }, `trial ${i}`);
  }
});

test('logins, refreshes and throttling leave the auth version alone; revocations move it', async (t) => {
  const { app, db } = await build(t);
  const auth = () =>
    db.selectFrom('data_versions').select('version').where('name', '=', 'auth').executeTakeFirstOrThrow();
  const pair = await loginPair(app, 'busy');
  const start = await auth();
  // A new session, a failed login (throttle counters), a refresh (spent token, last_used_at), a book.
  await loginPair(app, 'busy');
  await app.inject({
    method: 'POST',
    url: '/login',
    payload: { username: 'busy', password: 'not the password' },
  });
  const refreshed = await app.inject({
    method: 'POST',
    url: '/token/refresh',
    payload: { refresh_token: pair.refresh_token },
  });
  assert.equal(refreshed.statusCode, 201);
  await app.inject({
    method: 'POST',
    url: '/bookapi/books',
    headers: pair.headers,
    payload: { title: 'T', author: 'A' },
  });
  assert.deepEqual(await auth(), start, 'nothing a cached lookup depends on changed');
  assert.equal((await app.inject({ method: 'POST', url: '/logout', headers: pair.headers })).statusCode, 200);
  assert.notDeepEqual(await auth(), start, 'a logout changes it');
});

function book(i: number) {
  const now = new Date().toISOString();
  return {
    title: `Phantom ${i}`,
    author: 'Nobody',
    title_key: `phantom ${i}`,
    author_key: 'nobody',
    owner_id: 1,
    created_at: now,
    updated_at: now,
  };
}

test('a shared version read serves only callers that arrived before it was sent', async () => {
  let version = 0;
  const sent: { at: number; answer: () => void }[] = [];
  const shared = new SharedRead(
    () =>
      new Promise<number>((resolve) => {
        const at = version; // what the database holds when the read is sent
        sent.push({ at, answer: () => resolve(at) });
      }),
    2,
  );
  const turn = () => new Promise((r) => setImmediate(r));
  const first = shared.next();
  const alongside = shared.next(); // arrived with the first, before anything was sent: shares it
  await turn();
  assert.equal(sent.length, 1, 'one read for the callers that arrived together');
  version = 1; // a commit the next caller has seen (its client was told so)
  const second = shared.next(); // the first read is out: this one must not share it
  const third = shared.next();
  await turn();
  assert.equal(sent.length, 2, 'a new read, sent while the first is still out');
  version = 2;
  const fourth = shared.next(); // two reads out: waits for one to return, then gets its own
  await turn();
  assert.equal(sent.length, 2, 'never more than two reads out');
  sent[0]?.answer();
  assert.equal(await first, 0);
  assert.equal(await alongside, 0);
  await turn();
  assert.equal(sent.length, 3);
  sent[1]?.answer();
  sent[2]?.answer();
  assert.deepEqual([await second, await third, await fourth], [1, 1, 2]);
});
