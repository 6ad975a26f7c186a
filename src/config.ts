import type { JsonWebKey } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { newPasswordProblem } from './auth/password-policy.js';
import { secretGuessesLog10 } from './secret-strength.js';

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
  /** Seconds a request waits for a database connection, and for each query's answer, before a 503. */
  readonly dbQueryTimeout: number;
  /** Where the generated JWT secret (and the default SQLite file) live. */
  readonly dataDir: string;
  /** Undefined when JWT_SECRET is unset: the server then generates and keeps one in dataDir. */
  readonly jwtSecret: string | undefined;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  /** Access-token lifetime in seconds. */
  readonly accessTokenTtl: number;
  readonly logLevel: LogLevel;
  /** json for collectors, pretty for people, auto: pretty when stdout is a terminal. */
  readonly logFormat: LogFormat;
  /** Origins allowed by CORS; empty means CORS is off. */
  readonly corsOrigins: readonly string[];
  /** Refresh tokens: absolute session lifetime, idle lifetime, and the concurrent-refresh grace, in seconds. */
  readonly refreshTokenTtl: number;
  readonly refreshIdleTtl: number;
  readonly refreshReuseGrace: number;
  /** How long after a password login a token counts as fresh, in seconds. */
  readonly freshTokenTtl: number;
  readonly throttle: ThrottleConfig;
  /** Redis for throttling counters; undefined keeps them in the database. */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key, so deployments can share one Redis. */
  readonly redisPrefix: string;
  /** Proxies whose X-Forwarded-For is believed (IPs, CIDRs or loopback/linklocal/uniquelocal). */
  readonly trustProxy: readonly string[];
  /** Asymmetric signing keys (JWKs, newest first); empty means HS256 with jwtSecret. */
  readonly jwtKeys: readonly JsonWebKey[];
  /** An admin account to create at start when the database has no admin yet. */
  readonly initialAdmin: { readonly username: string; readonly password: string } | undefined;
  /** How long a client may take to send a request, or stay idle, and how many may be connected. */
  readonly connections: ConnectionLimits;
  /** Seconds the audit log keeps an event; older ones are pruned in the background. */
  readonly auditRetention: number;
  /** Whether personal access tokens (bkp_…) are accepted and can be created. */
  readonly personalAccessTokens: boolean;
  readonly metrics: MetricsConfig;
}

/** GET /metrics is off unless one of these is set. */
export interface MetricsConfig {
  /** Bearer token that may read /metrics on the API's port. */
  readonly token: string | undefined;
  /** A port of its own for /metrics, bound to 127.0.0.1 only. */
  readonly port: number | undefined;
}

export interface ThrottleConfig {
  /** Failed logins per username (existing or not) and client IP, per loginWindow: the guessing limit. */
  readonly loginFailuresPerUserAndIp: number;
  /** Failed logins per client IP across usernames, per loginWindow. */
  readonly loginFailuresPerIp: number;
  readonly loginWindow: number;
  /** Failed logins per username from all clients together, per loginAccountWindow (NIST: at most 100). */
  readonly loginFailuresPerAccount: number;
  readonly loginAccountWindow: number;
  /** Signup attempts per client IP per window. */
  readonly signupsPerIp: number;
  readonly signupWindow: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash output. */
export const MIN_SECRET_BYTES = 32;
const MIN_SECRET_GUESSES_LOG10 = 30;

/**
 * Reads and validates the whole configuration once. Nothing else in the
 * project reads process.env.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Without DATABASE_URL the SQLite file is in DATA_DIR, beside the generated secret: a container
  // that mounts a volume there (the Dockerfile's /data) keeps both in it.
  const dataDirSetting = read(env, 'DATA_DIR');
  const databaseUrl = read(env, 'DATABASE_URL');
  if (databaseUrl === undefined && dataDirSetting !== undefined) refuseStrandedDatabase(dataDirSetting);
  const database = parseDatabaseUrl(
    databaseUrl ??
      (dataDirSetting === undefined
        ? 'sqlite:./data/bookapi.db'
        : `sqlite:${path.resolve(dataDirSetting, 'bookapi.db')}`),
  );
  const connections = parseConnectionLimits(env);
  const dataDir = path.resolve(
    dataDirSetting ??
      (database.kind === 'sqlite' && database.file !== ':memory:' ? path.dirname(database.file) : './data'),
  );
  return Object.freeze({
    port: parsePort(read(env, 'PORT') ?? '5000'),
    host: read(env, 'HOST') ?? '127.0.0.1',
    workers: parseCount('WORKERS', read(env, 'WORKERS') ?? '1'),
    shutdownGrace: parseTimer('SHUTDOWN_GRACE', read(env, 'SHUTDOWN_GRACE') ?? '10s', 86_400, '1 day'),
    database,
    dbPoolSize: parseCount('DB_POOL_SIZE', read(env, 'DB_POOL_SIZE') ?? '10'),
    dbQueryTimeout: parseQueryTimeout(read(env, 'DB_QUERY_TIMEOUT'), connections.requestTimeout),
    dataDir,
    jwtSecret: checkSecret(read(env, 'JWT_SECRET')),
    jwtIssuer: read(env, 'JWT_ISSUER') ?? 'bookapi',
    jwtAudience: read(env, 'JWT_AUDIENCE') ?? 'bookapi',
    accessTokenTtl: parseDuration('ACCESS_TOKEN_TTL', read(env, 'ACCESS_TOKEN_TTL') ?? '15m'),
    logLevel: parseLogLevel(read(env, 'LOG_LEVEL') ?? 'info'),
    logFormat: parseLogFormat(read(env, 'LOG_FORMAT') ?? 'auto'),
    corsOrigins: parseOrigins(read(env, 'CORS_ORIGINS') ?? ''),
    refreshTokenTtl: parseDuration('REFRESH_TOKEN_TTL', read(env, 'REFRESH_TOKEN_TTL') ?? '30d'),
    refreshIdleTtl: parseDuration('REFRESH_IDLE_TTL', read(env, 'REFRESH_IDLE_TTL') ?? '7d'),
    refreshReuseGrace: parseDuration('REFRESH_REUSE_GRACE', read(env, 'REFRESH_REUSE_GRACE') ?? '10s', 0),
    freshTokenTtl: parseDuration('FRESH_TOKEN_TTL', read(env, 'FRESH_TOKEN_TTL') ?? '10m'),
    throttle: parseThrottle(env),
    trustProxy: parseTrustProxy(read(env, 'TRUST_PROXY') ?? ''),
    redisUrl: parseRedisUrl(read(env, 'REDIS_URL')),
    redisPrefix: read(env, 'REDIS_PREFIX') ?? 'bookapi:',
    jwtKeys: parseJwtKeys(read(env, 'JWT_KEYS'), read(env, 'JWT_KEYS_FILE')),
    initialAdmin: parseInitialAdmin(read(env, 'ADMIN_USERNAME'), env.ADMIN_PASSWORD),
    connections,
    auditRetention: parseDuration('AUDIT_RETENTION', read(env, 'AUDIT_RETENTION') ?? '90d'),
    personalAccessTokens: parseSwitch('PERSONAL_ACCESS_TOKENS', read(env, 'PERSONAL_ACCESS_TOKENS') ?? 'on'),
    metrics: parseMetrics(env, parsePort(read(env, 'PORT') ?? '5000')),
  });
}

/**
 * Before DATA_DIR also held the SQLite file, it held only the secret, and the
 * file stayed in ./data. An installation set up that way must not start on a
 * new, empty database in DATA_DIR while its library sits in ./data.
 */
function refuseStrandedDatabase(dataDir: string): void {
  const wanted = path.resolve(dataDir, 'bookapi.db');
  const old = path.resolve('data', 'bookapi.db');
  if (wanted !== old && !fs.existsSync(wanted) && fs.existsSync(old)) {
    throw new ConfigError(
      `DATA_DIR holds the SQLite file when DATABASE_URL is unset, and ${wanted} does not exist while ${old} does: move that file (with its -wal and -shm) into DATA_DIR, or set DATABASE_URL=sqlite:${old}`,
    );
  }
}

/** An empty variable counts as unset, as in most shells' `VAR= cmd`. */
function read(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The accepted forms, and nothing else (a typo must not quietly create a
 * database somewhere unexpected):
 *   sqlite:./data/bookapi.db   relative to the working directory
 *   sqlite:/var/lib/bookapi.db or sqlite:///var/lib/bookapi.db   absolute
 *   sqlite::memory:            in memory, gone at exit
 *   postgres://user@host:5432/dbname (or postgresql://), naming the database
 */
export function parseDatabaseUrl(url: string, name = 'DATABASE_URL'): DatabaseConfig {
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length);
    if (rest === ':memory:') return { kind: 'sqlite', file: rest };
    // sqlite://x names a host, which SQLite has none of: sqlite://./data.db meant ./data.db but was read as /data.db.
    if (rest.startsWith('//') && !rest.startsWith('///')) {
      throw new ConfigError(
        `${name} "${url}" is not a SQLite path: write sqlite:./relative/file.db or sqlite:///absolute/file.db`,
      );
    }
    const file = rest.replace(/^\/\/(?=\/)/, '');
    if (file === '' || file.endsWith('/')) {
      throw new ConfigError(`${name} "${url}" needs a file path (sqlite:./data/bookapi.db) or :memory:`);
    }
    return { kind: 'sqlite', file: path.resolve(file) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(`${name} is not a valid URL: ${redactUrl(url)}`);
    }
    if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
      throw new ConfigError(`${name} must name a host: postgres://user@host:5432/dbname`);
    }
    if (decodeURIComponent(parsed.pathname.replace(/^\//, '')) === '') {
      throw new ConfigError(
        `${name} must name a database: postgres://user@host:5432/dbname (${redactUrl(url)} names none)`,
      );
    }
    return { kind: 'postgres', url };
  }
  throw new ConfigError(
    `${name} must start with sqlite: (e.g. sqlite:./data/bookapi.db) or postgres://, got "${redactUrl(url)}"`,
  );
}

/** A URL as it may be printed: without its password. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

function parsePort(value: string, name = 'PORT'): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new ConfigError(`${name} must be a number from 0 to 65535, got "${value}"`);
  }
  return port;
}

const SWITCH: Record<string, boolean> = { on: true, true: true, 1: true, off: false, false: false, 0: false };

function parseSwitch(name: string, value: string): boolean {
  const on = SWITCH[value.toLowerCase()];
  if (on === undefined) throw new ConfigError(`${name} must be on or off, got "${value}"`);
  return on;
}

function parseMetrics(env: NodeJS.ProcessEnv, apiPort: number): MetricsConfig {
  const token = checkSecret(read(env, 'METRICS_TOKEN'), 'METRICS_TOKEN');
  // Sent as `Authorization: Bearer <token>`: a character outside RFC 6750's token68 could never match.
  if (token !== undefined && !/^[A-Za-z0-9._~+/=-]+$/.test(token))
    throw new ConfigError(
      'METRICS_TOKEN may hold only letters, digits and ._~+/=- (try: openssl rand -hex 32)',
    );
  // The scraper's copy of the metrics token must not also be the key that signs every login.
  if (token !== undefined && token === read(env, 'JWT_SECRET'))
    throw new ConfigError('METRICS_TOKEN must differ from JWT_SECRET: whoever scrapes could sign tokens');
  const raw = read(env, 'METRICS_PORT');
  const port = raw === undefined ? undefined : parsePort(raw, 'METRICS_PORT');
  if (port !== undefined && port !== 0 && port === apiPort)
    throw new ConfigError(
      `METRICS_PORT must differ from PORT (${apiPort}): the metrics get a listener of their own`,
    );
  return Object.freeze({ token, port });
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

function parseLogFormat(value: string): LogFormat {
  const format = LOG_FORMATS.find((f) => f === value.toLowerCase());
  if (!format) throw new ConfigError(`LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}, got "${value}"`);
  return format;
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
 * or guessable one is refused rather than merely warned about. Guessability
 * is zxcvbn's estimate, which sees dictionary words, repeats and sequences
 * (`changeme-changeme-…` is about 10^8 guesses); 10^30 is about 100 bits.
 */
export function checkSecret(secret: string | undefined, name = 'JWT_SECRET'): string | undefined {
  if (secret === undefined) return undefined;
  if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) {
    throw new ConfigError(
      `${name} must be at least ${MIN_SECRET_BYTES} bytes of random data (try: openssl rand -hex 32)${name === 'JWT_SECRET' ? ', or unset to have one generated' : ''}`,
    );
  }
  if (secretGuessesLog10(secret) < MIN_SECRET_GUESSES_LOG10) {
    throw new ConfigError(
      `${name} is guessable (words, repeats or sequences); use random data (try: openssl rand -hex 32)`,
    );
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
  // The most privileged account gets no weaker password than any other.
  const problem = newPasswordProblem(password);
  if (problem !== undefined)
    throw new ConfigError(`ADMIN_PASSWORD ${problem} (the rule every password follows)`);
  return Object.freeze({ username, password });
}

function parseThrottle(env: NodeJS.ProcessEnv): ThrottleConfig {
  const perUserAndIp = parseCount('LOGIN_MAX_FAILURES', read(env, 'LOGIN_MAX_FAILURES') ?? '5');
  const loginWindow = parseDuration('LOGIN_WINDOW', read(env, 'LOGIN_WINDOW') ?? '15m');
  const accountWindow = parseDuration('LOGIN_ACCOUNT_WINDOW', read(env, 'LOGIN_ACCOUNT_WINDOW') ?? '1h');
  // The most failures one client can add to an account's count within its window: one full
  // per-client window for each that fits, plus one straddling the start.
  const oneClient = perUserAndIp * (Math.ceil(accountWindow / loginWindow) + 1);
  const accountMax = read(env, 'LOGIN_ACCOUNT_MAX_FAILURES');
  const perAccount =
    accountMax === undefined
      ? Math.max(100, oneClient + 1)
      : parseCount('LOGIN_ACCOUNT_MAX_FAILURES', accountMax);
  if (perAccount <= oneClient) {
    throw new ConfigError(
      `LOGIN_ACCOUNT_MAX_FAILURES must be above ${oneClient}, the failures one client may make in LOGIN_ACCOUNT_WINDOW at LOGIN_MAX_FAILURES per LOGIN_WINDOW (else one client could lock an account), got ${perAccount}`,
    );
  }
  return Object.freeze({
    loginFailuresPerUserAndIp: perUserAndIp,
    loginFailuresPerIp: parseCount('LOGIN_IP_MAX_FAILURES', read(env, 'LOGIN_IP_MAX_FAILURES') ?? '20'),
    loginWindow,
    loginFailuresPerAccount: perAccount,
    loginAccountWindow: accountWindow,
    signupsPerIp: parseCount('SIGNUP_IP_MAX', read(env, 'SIGNUP_IP_MAX') ?? '20'),
    signupWindow: parseDuration('SIGNUP_WINDOW', read(env, 'SIGNUP_WINDOW') ?? '1h'),
  });
}

function parseRedisUrl(url: string | undefined): string | undefined {
  if (url !== undefined && !/^rediss?:\/\//.test(url)) {
    throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got "${url}"`);
  }
  return url;
}

export interface ConnectionLimits {
  /** Seconds from a connection's first byte (or from its opening) to the end of the request headers. */
  readonly headersTimeout: number;
  /** Seconds to receive a whole request, headers and body. */
  readonly requestTimeout: number;
  /** Seconds an idle keep-alive connection stays open between requests. */
  readonly keepAliveTimeout: number;
  /** Open connections per process beyond which new ones are closed at once; 0 for no limit. */
  readonly maxConnections: number;
}

/** Past about 24.8 days Node's timers overflow and fire at once; an hour is already generous. */
const MAX_CLIENT_TIMEOUT = 3600;

/** A duration that becomes a timer: bounded, so it never reaches the overflow. */
function parseTimer(name: string, value: string, maxSeconds: number, maxText: string): number {
  const seconds = parseDuration(name, value);
  if (seconds > maxSeconds) throw new ConfigError(`${name} must be at most ${maxText}, got "${value}"`);
  return seconds;
}

/**
 * A request may wait DB_QUERY_TIMEOUT for a pool connection, then as long
 * for its query; its socket is closed once nothing has moved on it for
 * about REQUEST_TIMEOUT. Longer, and the client would get a dropped
 * connection instead of the 503 a timeout promises. Unset: 5 s, or half of
 * a shorter REQUEST_TIMEOUT (at least 1 s).
 */
function parseQueryTimeout(value: string | undefined, requestTimeout: number): number {
  if (value === undefined) return Math.max(1, Math.min(5, Math.floor(requestTimeout / 2)));
  const seconds = parseTimer('DB_QUERY_TIMEOUT', value, MAX_CLIENT_TIMEOUT, '1 hour');
  if (2 * seconds > requestTimeout) {
    throw new ConfigError(
      `DB_QUERY_TIMEOUT (${seconds}s) must be at most half of REQUEST_TIMEOUT (${requestTimeout}s): a request may wait that long for a connection and as long again for its query, and is cut off after REQUEST_TIMEOUT`,
    );
  }
  return seconds;
}

function parseConnectionLimits(env: NodeJS.ProcessEnv): ConnectionLimits {
  const timeout = (name: string, fallback: string) =>
    parseTimer(name, read(env, name) ?? fallback, MAX_CLIENT_TIMEOUT, '1 hour');
  const headersTimeout = timeout('HEADERS_TIMEOUT', '10s');
  const requestTimeout = timeout('REQUEST_TIMEOUT', '30s');
  if (requestTimeout < headersTimeout) {
    throw new ConfigError(
      `REQUEST_TIMEOUT (${requestTimeout}s) covers the headers too, so it cannot be shorter than HEADERS_TIMEOUT (${headersTimeout}s)`,
    );
  }
  const max = read(env, 'MAX_CONNECTIONS') ?? '10000';
  if (!/^\d{1,7}$/.test(max)) {
    throw new ConfigError(`MAX_CONNECTIONS must be a whole number (0 for no limit), got "${max}"`);
  }
  return Object.freeze({
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: timeout('KEEP_ALIVE_TIMEOUT', '5s'),
    maxConnections: Number(max),
  });
}
