// Inputs at the edge of what the databases store — ids past 32 bits, NUL
// characters — answer the same on SQLite and PostgreSQL, and never 500.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { publicRoute } from '../../src/auth/decorators.js';
import type { Db } from '../../src/db/database.js';
import {
  addBook,
  body,
  build,
  login,
  loginPair,
  makeAdmin,
  ORIGINAL_USER,
  publicIdOf,
  signup,
  TEST_DB,
} from '../helpers.js';

/** Past int4 (2^31), past 2^32, and the largest id the API takes (15 digits). */
const LARGE_IDS = ['2147483648', '4294967296', '999999999999999'];
/** Longer than the schema allows, 2^53 - 1 included. */
const TOO_LARGE = ['1000000000000000', '9007199254740991', '9007199254740993', '9223372036854775808'];

/** Makes the next id generated for `table` `next`, on either database. */
async function nextIdWillBe(db: Db, table: 'users' | 'books', next: number): Promise<void> {
  if (TEST_DB === 'postgres') {
    await sql`select setval(pg_get_serial_sequence(${table}, 'id'), ${next - 1})`.execute(db);
  } else {
    // SQLite keeps AUTOINCREMENT's high-water mark here once the table had a row.
    await sql`update sqlite_sequence set seq = ${next - 1} where name = ${table}`.execute(db);
  }
}

test('ids up to 15 digits answer 404 or an empty page; longer ones 400; never a 500', async (t) => {
  const { app } = await build(t);
  const { headers } = await loginPair(app);
  await addBook(app, headers);
  for (const id of LARGE_IDS) {
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await app.inject({
        method,
        url: `/bookapi/books/${id}`,
        headers,
        ...(method === 'PATCH' ? { payload: { title: 'x' } } : {}),
      });
      assert.equal(res.statusCode, 404, `${method} ${id}: ${res.body}`);
      assert.deepEqual(body(res), { message: 'book does not exist', code: 'BOOK_NOT_FOUND' });
    }
    const page = await app.inject({ method: 'GET', url: `/bookapi/books?after=${id}`, headers });
    assert.equal(page.statusCode, 200, `after=${id}: ${page.body}`);
    assert.deepEqual(body(page), { Books: [] });
    const limit = await app.inject({ method: 'GET', url: `/bookapi/books?limit=${id}`, headers });
    assert.equal(limit.statusCode, 400, `limit=${id}`);
  }
  for (const id of TOO_LARGE) {
    for (const url of [`/bookapi/books/${id}`, `/bookapi/books?after=${id}`, `/bookapi/books?limit=${id}`]) {
      const res = await app.inject({ method: 'GET', url, headers });
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.equal(typeof body(res).code, 'string');
    }
  }
});

test('users and books whose ids pass 2^31 work end to end', async (t) => {
  const { app, db } = await build(t);
  const first = await loginPair(app, 'first-user');
  await addBook(app, first.headers);
  await nextIdWillBe(db, 'users', 2 ** 31 + 5);
  await nextIdWillBe(db, 'books', 2 ** 32 + 7);

  // The user's id lands in sessions.user_id and books.owner_id too.
  const big = await loginPair(app, 'big-user');
  const { id: userId } = await db
    .selectFrom('users')
    .select('id')
    .where('username', '=', 'big-user')
    .executeTakeFirstOrThrow();
  assert.equal(userId, 2 ** 31 + 5);
  const book = await addBook(app, big.headers, { title: 'Dune', author: 'Frank Herbert' });
  assert.equal(book.id, 2 ** 32 + 7);
  const url = `/bookapi/books/${book.id}`;
  assert.equal((await app.inject({ method: 'GET', url, headers: big.headers })).statusCode, 200);
  const patched = await app.inject({
    method: 'PATCH',
    url,
    headers: big.headers,
    payload: { title: 'Dune!' },
  });
  assert.equal(patched.statusCode, 200, patched.body);
  // Someone else's book, by its big id: 403, not a 500.
  const foreign = await app.inject({ method: 'DELETE', url, headers: first.headers });
  assert.equal(foreign.statusCode, 403);

  const page = await app.inject({ method: 'GET', url: '/bookapi/books?limit=1', headers: big.headers });
  assert.equal(page.headers.link, '</bookapi/books?limit=1&after=1>; rel="next"');
  const next = await app.inject({
    method: 'GET',
    url: '/bookapi/books?limit=1&after=1',
    headers: big.headers,
  });
  assert.deepEqual(
    body<{ Books: { id: number }[] }>(next).Books.map((b) => b.id),
    [book.id],
  );
  assert.equal((await app.inject({ method: 'GET', url: '/me', headers: big.headers })).statusCode, 200);
  const refreshed = await app.inject({
    method: 'POST',
    url: '/token/refresh',
    payload: { refresh_token: big.refresh_token },
  });
  assert.equal(refreshed.statusCode, 201);

  await makeAdmin(db, 'first-user');
  const admin = await loginPair(app, 'first-user');
  const users = await app.inject({ method: 'GET', url: '/admin/users', headers: admin.headers });
  assert.deepEqual(
    body<{ Users: { username: string }[] }>(users).Users.map((u) => u.username),
    ['first-user', 'big-user'],
  );
  const bigId = await publicIdOf(db, 'big-user');
  const disabled = await app.inject({
    method: 'PATCH',
    url: `/admin/users/${bigId}`,
    headers: admin.headers,
    payload: { disabled: true },
  });
  assert.equal(disabled.statusCode, 200);
  assert.equal((await app.inject({ method: 'GET', url, headers: big.headers })).statusCode, 401);
  assert.equal((await app.inject({ method: 'DELETE', url, headers: admin.headers })).statusCode, 200);
});

/** A different client address for each attempt, so the per-IP login limit stays out of the way. */
let client = 0;
const from = () => ({ remoteAddress: `10.0.${Math.floor(client / 250)}.${(client++ % 250) + 1}` });

test('a NUL in a login username or password: the 401 every failed login gets', async (t) => {
  const { app } = await build(t);
  await signup(app);
  const unknown = await app.inject({
    method: 'POST',
    url: '/login',
    payload: { username: 'nobody-here', password: ORIGINAL_USER.password },
    ...from(),
  });
  assert.equal(unknown.statusCode, 401);
  const { username, password } = ORIGINAL_USER;
  for (const payload of [
    { username: '\u0000', password },
    { username: `${username}\u0000`, password },
    { username: `\u0000${username}`, password },
    { username: `test\u0000ing_user`, password },
    { username: `${'a'.repeat(1023)}\u0000`, password },
    { username, password: `${password}\u0000` },
    { username, password: '\u0000' },
  ]) {
    const res = await app.inject({ method: 'POST', url: '/login', payload, ...from() });
    assert.equal(res.statusCode, 401, `${JSON.stringify(payload)}: ${res.body}`);
    assert.equal(res.body, unknown.body);
    assert.equal(res.headers['www-authenticate'], unknown.headers['www-authenticate']);
  }
  assert.equal((await login(app)).statusCode, 201);
});

test('a NUL in a password is just another character: hashed, never stored as text', async (t) => {
  const { app } = await build(t);
  const user = { username: 'nul-password', password: 'pass\u0000phrase!' };
  assert.equal((await signup(app, user)).statusCode, 201);
  assert.equal((await login(app, user)).statusCode, 201);
  assert.equal((await login(app, { ...user, password: 'passphrase!' })).statusCode, 401);
});

test('a NUL in a login username still pays for a password verify (no timing tell)', async (t) => {
  const { app } = await build(t, { LOGIN_MAX_FAILURES: '1000', LOGIN_IP_MAX_FAILURES: '1000' });
  await signup(app);
  const median = async (username: string) => {
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const start = process.hrtime.bigint();
      const res = await login(app, { username, password: 'not the password' });
      times.push(Number(process.hrtime.bigint() - start));
      assert.equal(res.statusCode, 401);
    }
    return times.sort((a, b) => a - b)[3] ?? 0;
  };
  const [unknown, nul] = [await median('nobody-at-all'), await median('nobody\u0000at-all')];
  const ratio = nul / unknown;
  assert.ok(ratio > 0.5 && ratio < 2, `NUL/unknown median ratio ${ratio.toFixed(2)}`);
});

async function admin(app: FastifyInstance, db: Db) {
  await loginPair(app, 'root');
  await makeAdmin(db, 'root');
  return loginPair(app, 'root');
}

test('a NUL anywhere else — signup, books, paths, queries, admin, account — answers 4xx', async (t) => {
  const { app, db } = await build(t);
  const root = await admin(app, db);
  const user = await loginPair(app);
  const book = await addBook(app, user.headers);
  const readerId = await publicIdOf(db, ORIGINAL_USER.username);
  const nul = '\u0000';
  const cases: [string, string, unknown, Record<string, string>, number][] = [
    ['POST', '/signup', { username: `new${nul}user`, password: 'a fine passphrase' }, {}, 400],
    ['POST', '/signup', { username: nul.repeat(3), password: 'a fine passphrase' }, {}, 400],
    ['POST', '/bookapi/books', { title: `Du${nul}ne`, author: 'Frank Herbert' }, user.headers, 400],
    ['POST', '/bookapi/books', { title: 'Dune', author: nul }, user.headers, 400],
    ['POST', '/bookapi/addbook', { title: nul, author: 'Frank Herbert' }, user.headers, 400],
    ['PATCH', `/bookapi/books/${book.id}`, { title: `x${nul}` }, user.headers, 400],
    ['PATCH', `/bookapi/books/${book.id}`, { author: nul }, user.headers, 400],
    ['GET', '/bookapi/books/%00', undefined, user.headers, 400],
    ['GET', `/bookapi/books/${book.id}%00`, undefined, user.headers, 400],
    ['DELETE', `/bookapi/books/%00${book.id}`, undefined, user.headers, 400],
    ['GET', '/bookapi/books?after=%00', undefined, user.headers, 400],
    ['GET', '/bookapi/books?after=1%00', undefined, user.headers, 400],
    ['GET', '/bookapi/books?limit=%00', undefined, user.headers, 400],
    ['GET', '/admin/users?after=%00', undefined, root.headers, 400],
    ['GET', `/admin/users?after=${readerId}%00`, undefined, root.headers, 400],
    ['PATCH', `/admin/users/${readerId}%00`, { disabled: true }, root.headers, 400],
    ['DELETE', '/admin/users/%00', undefined, root.headers, 400],
    ['POST', '/token/refresh', { refresh_token: `${user.refresh_token.slice(1)}${nul}` }, {}, 401],
    ['PUT', '/me/password', { current_password: nul, new_password: 'a new passphrase' }, user.headers, 401],
    ['DELETE', '/me', { password: `${ORIGINAL_USER.password}${nul}` }, user.headers, 401],
  ];
  for (const [method, url, payload, headers, expected] of cases) {
    const res = await app.inject({ method, url, headers, payload: payload as object, ...from() });
    const label = `${method} ${url} ${JSON.stringify(payload)}`;
    assert.equal(res.statusCode, expected, `${label}: ${res.body}`);
    assert.equal(typeof body(res).code, 'string', label);
  }
  // Nothing was changed on the way.
  const still = await app.inject({ method: 'GET', url: `/bookapi/books/${book.id}`, headers: user.headers });
  assert.equal(body(still).title, book.title);
  assert.equal((await login(app)).statusCode, 201);
});

test("the database's encoding and timeout errors answer 400 and 503, never 500", async (t) => {
  const { app } = await build(t);
  const faults: [Record<string, unknown>, number][] = [
    // PostgreSQL refusing a character (NUL, or one the database's encoding lacks).
    [{ code: '22021', message: 'invalid byte sequence for encoding "UTF8": 0x00' }, 400],
    [{ code: '22P05', message: 'unsupported Unicode escape sequence' }, 400],
    // statement_timeout, the client-side query timeout, a pool that found no connection in time.
    [{ code: '57014', message: 'canceling statement due to statement timeout' }, 503],
    [{ message: 'Query read timeout' }, 503],
    [{ message: 'timeout exceeded when trying to connect' }, 503],
    [{ code: 'SQLITE_BUSY_SNAPSHOT', message: 'database is locked' }, 503],
  ];
  faults.forEach(([fault], i) => {
    app.get(
      `/fault/${i}`,
      publicRoute(async () => {
        throw Object.assign(new Error(String(fault.message)), fault);
      }),
    );
  });
  for (const [i, [fault, expected]] of faults.entries()) {
    const res = await app.inject({ method: 'GET', url: `/fault/${i}` });
    assert.equal(res.statusCode, expected, JSON.stringify(fault));
    assert.equal(res.body.includes(String(fault.message)), false, 'no database detail');
    if (expected === 503) assert.match(String(res.headers['retry-after']), /^\d+$/);
  }
});
