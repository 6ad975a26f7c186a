import { createHmac, randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import type { Clock } from '../src/clock.js';
import { type Config, loadConfig } from '../src/config.js';
import { createDatabase, type Db } from '../src/db/database.js';

export const TEST_SECRET = randomBytes(32).toString('hex');

export const ORIGINAL_USER = { username: 'testing_user', password: 'testing_p@ssword' };

export function testConfig(env: Record<string, string> = {}): Config & { jwtSecret: string } {
  const config = loadConfig({
    DATABASE_URL: 'sqlite::memory:',
    JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'silent',
    ...env,
  });
  return { ...config, jwtSecret: config.jwtSecret ?? TEST_SECRET };
}

/** Which database the suite runs on: `npm test` runs it once per database (see scripts/test.mjs). */
export const TEST_DB = process.env.BOOKAPI_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL;

/**
 * A fresh, empty database for one test: in-memory SQLite, or a new schema
 * on the test PostgreSQL server. Under `npm test` the schemas carry the run's
 * id and the runner (scripts/test.mjs) drops them once every file is done,
 * not when each test ends: the query builder's migrator reads the catalog of
 * every schema, and a schema another test file drops at that moment fails it
 * ("schema … does not exist"). A file run by itself drops its own.
 */
export async function testDatabaseUrl(t: TestContext): Promise<string> {
  if (TEST_DB === 'sqlite') return 'sqlite::memory:';
  if (!TEST_POSTGRES_URL) throw new Error('BOOKAPI_TEST_DB=postgres needs TEST_POSTGRES_URL');
  const run = process.env.BOOKAPI_TEST_RUN;
  const schema = `t_${run ? `${run}_` : ''}${randomBytes(6).toString('hex')}`;
  await pgAdmin(TEST_POSTGRES_URL, `create schema ${schema}`);
  if (!run) t.after(() => pgAdmin(TEST_POSTGRES_URL, `drop schema if exists ${schema} cascade`));
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

async function pgAdmin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** A clock that only moves when told to. */
export class FakeClock implements Clock {
  constructor(private ms = Date.parse('2026-01-01T00:00:00Z')) {}
  now(): number {
    return this.ms;
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

export interface TestApp {
  app: FastifyInstance;
  db: Db;
  clock: FakeClock;
  config: Config & { jwtSecret: string };
}

/** A fresh app on a fresh in-memory database, closed when the test ends. */
export async function build(t: TestContext, env: Record<string, string> = {}): Promise<TestApp> {
  const config = testConfig({ DATABASE_URL: await testDatabaseUrl(t), ...env });
  const db = createDatabase(config.database);
  const clock = new FakeClock();
  const app = await buildApp({ config, db, clock });
  t.after(() => app.close());
  return { app, db, clock, config };
}

export function body<T = Record<string, unknown>>(res: LightMyRequestResponse): T {
  return JSON.parse(res.body) as T;
}

export async function signup(app: FastifyInstance, user = ORIGINAL_USER): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/signup', payload: user });
}

export async function login(app: FastifyInstance, user = ORIGINAL_USER): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/login', payload: user });
}

/** Signs up (if needed) and logs in; returns the token and ready-made headers. */
export async function signupAndLogin(
  app: FastifyInstance,
  username = ORIGINAL_USER.username,
): Promise<{ token: string; headers: Record<string, string> }> {
  const user = { username, password: ORIGINAL_USER.password };
  await signup(app, user);
  const res = await login(app, user);
  if (res.statusCode !== 201) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const { token } = body<{ token: string }>(res);
  return { token, headers: { 'x-access-token': token } };
}

export async function makeAdmin(db: Db, username: string): Promise<void> {
  await db.updateTable('users').set({ admin: 1 }).where('username', '=', username).execute();
}

export async function addBook(
  app: FastifyInstance,
  headers: Record<string, string>,
  book = { title: 'The Hobbit', author: 'J. R. R. Tolkien' },
): Promise<{ id: number; title: string; author: string }> {
  const res = await app.inject({ method: 'POST', url: '/bookapi/books', headers, payload: book });
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`);
  return body(res);
}

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/**
 * Builds a JWS by hand, independently of the library under test, so attack
 * tokens can carry any header, payload and key.
 */
export function forgeToken(
  header: unknown,
  payload: unknown,
  key: string | Buffer = TEST_SECRET,
  hash = 'sha256',
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`;
}

/** A payload our server would accept at the FakeClock's start, for a given user. */
export function claims(sub: string, clock: FakeClock, overrides: Record<string, unknown> = {}) {
  const iat = Math.floor(clock.now() / 1000);
  return {
    sub,
    public_id: sub,
    jti: 'test-jti',
    iss: 'bookapi',
    aud: 'bookapi',
    iat,
    exp: iat + 900,
    ...overrides,
  };
}

export const HS256 = { alg: 'HS256', typ: 'at+jwt' };

export async function publicIdOf(db: Db, username: string): Promise<string> {
  const row = await db
    .selectFrom('users')
    .select('public_id')
    .where('username', '=', username)
    .executeTakeFirstOrThrow();
  return row.public_id;
}

export interface Pair {
  token: string;
  refresh_token: string;
  headers: Record<string, string>;
}

/** Logs in (signing up first if needed) and returns both tokens. */
export async function loginPair(
  app: FastifyInstance,
  username = ORIGINAL_USER.username,
  password = ORIGINAL_USER.password,
  options: { remoteAddress?: string } = {},
): Promise<Pair> {
  await app.inject({ method: 'POST', url: '/signup', payload: { username, password }, ...options });
  const res = await app.inject({
    method: 'POST',
    url: '/login',
    payload: { username, password },
    ...options,
  });
  if (res.statusCode !== 201) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const { token, refresh_token } = body<{ token: string; refresh_token: string }>(res);
  return { token, refresh_token, headers: { authorization: `Bearer ${token}` } };
}

export async function refresh(app: FastifyInstance, refreshToken: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/token/refresh', payload: { refresh_token: refreshToken } });
}

export async function status(
  app: FastifyInstance,
  url: string,
  headers: Record<string, string>,
): Promise<number> {
  return (await app.inject({ method: 'GET', url, headers })).statusCode;
}
