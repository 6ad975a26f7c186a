import type { JsonWebKey } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Thrown for any invalid setting; the server prints its message as one line and exits. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type DatabaseConfig =
  | { kind: 'sqlite'; file: string } // file ':memory:' for an in-memory database
  | { kind: 'postgres'; url: string };

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Worker processes sharing the port (node:cluster); 1 runs the server in this process. */
  readonly workers: number;
  /** Seconds to finish in-flight requests on SIGTERM/SIGINT before exiting anyway. */
  readonly shutdownGrace: number;
  readonly database: DatabaseConfig;
  /** PostgreSQL connections per process (per worker with WORKERS > 1). */
  readonly dbPoolSize: number;
  /** Where the generated JWT secret (and the default SQLite file) live. */
  readonly dataDir: string;
  /** Undefined when JWT_SECRET is unset: the server then generates and keeps one in dataDir. */
  readonly jwtSecret: string | undefined;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  /** Access-token lifetime in seconds. */
  readonly accessTokenTtl: number;
  readonly logLevel: LogLevel;
  /** Origins allowed by CORS; empty means CORS is off. */
  readonly corsOrigins: readonly string[];
  /** Refresh tokens: absolute session lifetime, idle lifetime, and the concurrent-refresh grace, in seconds. */
  readonly refreshTokenTtl: number;
  readonly refreshIdleTtl: number;
  readonly refreshReuseGrace: number;
  /** How long after a password login a token counts as fresh, in seconds. */
  readonly freshTokenTtl: number;
  readonly throttle: ThrottleConfig;
  /** Redis for throttling counters shared by all instances; undefined keeps them in memory. */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key, so deployments can share one Redis. */
  readonly redisPrefix: string;
  /** Proxies whose X-Forwarded-For is believed (IPs, CIDRs or loopback/linklocal/uniquelocal). */
  readonly trustProxy: readonly string[];
  /** Asymmetric signing keys (JWKs, newest first); empty means HS256 with jwtSecret. */
  readonly jwtKeys: readonly JsonWebKey[];
  /** An admin account to create at start when the database has no admin yet. */
  readonly initialAdmin: { readonly username: string; readonly password: string } | undefined;
}

export interface ThrottleConfig {
  /** Failed logins per username (existing or not) per window. */
  readonly loginFailuresPerUser: number;
  /** Failed logins per client IP per window. */
  readonly loginFailuresPerIp: number;
  readonly loginWindow: number;
  /** Signup attempts per client IP per window. */
  readonly signupsPerIp: number;
  readonly signupWindow: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash output. */
export const MIN_SECRET_BYTES = 32;

/**
 * Reads and validates the whole configuration once. Nothing else in the
 * project reads process.env.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const database = parseDatabaseUrl(read(env, 'DATABASE_URL') ?? 'sqlite:./data/bookapi.db');
  const dataDir = path.resolve(
    read(env, 'DATA_DIR') ??
      (database.kind === 'sqlite' && database.file !== ':memory:' ? path.dirname(database.file) : './data'),
  );
  return Object.freeze({
    port: parsePort(read(env, 'PORT') ?? '5000'),
    host: read(env, 'HOST') ?? '127.0.0.1',
    workers: parseCount('WORKERS', read(env, 'WORKERS') ?? '1'),
    shutdownGrace: parseDuration('SHUTDOWN_GRACE', read(env, 'SHUTDOWN_GRACE') ?? '10s'),
    database,
    dbPoolSize: parseCount('DB_POOL_SIZE', read(env, 'DB_POOL_SIZE') ?? '10'),
    dataDir,
    jwtSecret: checkSecret(read(env, 'JWT_SECRET')),
    jwtIssuer: read(env, 'JWT_ISSUER') ?? 'bookapi',
    jwtAudience: read(env, 'JWT_AUDIENCE') ?? 'bookapi',
    accessTokenTtl: parseDuration('ACCESS_TOKEN_TTL', read(env, 'ACCESS_TOKEN_TTL') ?? '15m'),
    logLevel: parseLogLevel(read(env, 'LOG_LEVEL') ?? 'info'),
    corsOrigins: parseOrigins(read(env, 'CORS_ORIGINS') ?? ''),
    refreshTokenTtl: parseDuration('REFRESH_TOKEN_TTL', read(env, 'REFRESH_TOKEN_TTL') ?? '30d'),
    refreshIdleTtl: parseDuration('REFRESH_IDLE_TTL', read(env, 'REFRESH_IDLE_TTL') ?? '7d'),
    refreshReuseGrace: parseDuration('REFRESH_REUSE_GRACE', read(env, 'REFRESH_REUSE_GRACE') ?? '10s', 0),
    freshTokenTtl: parseDuration('FRESH_TOKEN_TTL', read(env, 'FRESH_TOKEN_TTL') ?? '10m'),
    throttle: Object.freeze({
      loginFailuresPerUser: parseCount('LOGIN_MAX_FAILURES', read(env, 'LOGIN_MAX_FAILURES') ?? '5'),
      loginFailuresPerIp: parseCount('LOGIN_IP_MAX_FAILURES', read(env, 'LOGIN_IP_MAX_FAILURES') ?? '20'),
      loginWindow: parseDuration('LOGIN_WINDOW', read(env, 'LOGIN_WINDOW') ?? '15m'),
      signupsPerIp: parseCount('SIGNUP_IP_MAX', read(env, 'SIGNUP_IP_MAX') ?? '20'),
      signupWindow: parseDuration('SIGNUP_WINDOW', read(env, 'SIGNUP_WINDOW') ?? '1h'),
    }),
    trustProxy: parseTrustProxy(read(env, 'TRUST_PROXY') ?? ''),
    redisUrl: parseRedisUrl(read(env, 'REDIS_URL')),
    redisPrefix: read(env, 'REDIS_PREFIX') ?? 'bookapi:',
    jwtKeys: parseJwtKeys(read(env, 'JWT_KEYS'), read(env, 'JWT_KEYS_FILE')),
    initialAdmin: parseInitialAdmin(read(env, 'ADMIN_USERNAME'), env.ADMIN_PASSWORD),
  });
}

/** An empty variable counts as unset, as in most shells' `VAR= cmd`. */
function read(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function parseDatabaseUrl(url: string): DatabaseConfig {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '') throw new ConfigError('DATABASE_URL "sqlite:" needs a file path or :memory:');
    return { kind: 'sqlite', file: file === ':memory:' ? file : path.resolve(file) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url };
  throw new ConfigError(
    'DATABASE_URL must start with sqlite: (e.g. sqlite:./data/bookapi.db) or postgres://',
  );
}

function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new ConfigError(`PORT must be a number from 0 to 65535, got "${value}"`);
  }
  return port;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "900", "900s", "15m", "1h" or "1d" → seconds. */
export function parseDuration(name: string, value: string, min = 1): number {
  const match = /^(\d{1,9})([smhd]?)$/.exec(value);
  const seconds = match ? Number(match[1]) * (UNITS[match[2] || 's'] ?? 1) : -1;
  if (seconds < min) {
    throw new ConfigError(`${name} must be a positive duration like 900, 90s, 15m or 1h, got "${value}"`);
  }
  return seconds;
}

function parseLogLevel(value: string): LogLevel {
  const level = LOG_LEVELS.find((l) => l === value.toLowerCase());
  if (!level) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  return level;
}

function parseOrigins(value: string): string[] {
  const origins = value
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(`CORS_ORIGINS entries must look like https://example.com, got "${origin}"`);
    }
  }
  return origins;
}

/**
 * RFC 8725 §3.5: a guessable HMAC secret lets anyone mint tokens, so a short
 * or visibly repetitive one is refused rather than merely warned about.
 */
export function checkSecret(secret: string | undefined): string | undefined {
  if (secret === undefined) return undefined;
  if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) {
    throw new ConfigError(
      `JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes of random data (try: openssl rand -hex 32), or unset to have one generated`,
    );
  }
  if (new Set(secret).size < 8) {
    throw new ConfigError('JWT_SECRET looks repetitive; use random data (try: openssl rand -hex 32)');
  }
  return secret;
}

function parseCount(name: string, value: string): number {
  const count = /^\d{1,6}$/.test(value) ? Number(value) : 0;
  if (count < 1) throw new ConfigError(`${name} must be a whole number of at least 1, got "${value}"`);
  return count;
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function parseTrustProxy(value: string): string[] {
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [address = '', bits, ...rest] = entry.split('/');
    const family = net.isIP(address);
    const validBits =
      bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!PROXY_NAMES.has(entry) && (family === 0 || !validBits || rest.length > 0)) {
      throw new ConfigError(
        `TRUST_PROXY entries must be IP addresses, CIDR ranges or loopback/linklocal/uniquelocal, got "${entry}"`,
      );
    }
  }
  return entries;
}

function parseJwtKeys(inline: string | undefined, file: string | undefined): JsonWebKey[] {
  if (inline !== undefined && file !== undefined)
    throw new ConfigError('set JWT_KEYS or JWT_KEYS_FILE, not both');
  const source = inline !== undefined ? 'JWT_KEYS' : 'JWT_KEYS_FILE';
  let text = inline;
  if (file !== undefined) {
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`JWT_KEYS_FILE ${file} cannot be read: ${(error as Error).message}`);
    }
  }
  if (text === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`${source} must be JSON: a JWK Set {"keys": [...]} or an array of JWKs`);
  }
  const keys = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'object' && k !== null)) {
    throw new ConfigError(`${source} must hold a non-empty list of JWKs`);
  }
  return keys as JsonWebKey[];
}

function parseInitialAdmin(username: string | undefined, password: string | undefined) {
  if (username === undefined && !password) return undefined;
  if (username === undefined || !password) {
    throw new ConfigError('ADMIN_USERNAME and ADMIN_PASSWORD go together: set both or neither');
  }
  return Object.freeze({ username, password });
}

function parseRedisUrl(url: string | undefined): string | undefined {
  if (url !== undefined && !/^rediss?:\/\//.test(url)) {
    throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got "${url}"`);
  }
  return url;
}
