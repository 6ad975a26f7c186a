import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadOrCreateSecret } from '../src/auth/secret.js';
import { ConfigError, loadConfig } from '../src/config.js';

test('defaults match the original: port 5000 on 127.0.0.1, SQLite in ./data, 15-minute tokens', () => {
  const config = loadConfig({});
  assert.equal(config.port, 5000);
  assert.equal(config.host, '127.0.0.1');
  assert.deepEqual(config.database, { kind: 'sqlite', file: path.resolve('data/bookapi.db') });
  assert.equal(config.dataDir, path.resolve('data'));
  assert.equal(config.jwtSecret, undefined);
  assert.equal(config.accessTokenTtl, 900);
  assert.equal(config.logLevel, 'info');
  assert.deepEqual(config.corsOrigins, []);
  assert.ok(Object.isFrozen(config));
});

test('DATA_DIR alone holds the SQLite file too, unless that would strand a library in ./data', () => {
  const cwd = process.cwd();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-datadir-'));
  try {
    process.chdir(dir);
    // A container's volume holds both the secret and the database.
    const moved = loadConfig({ DATA_DIR: 'volume' });
    assert.deepEqual(moved.database, { kind: 'sqlite', file: path.resolve('volume/bookapi.db') });
    assert.equal(moved.dataDir, path.resolve('volume'));
    // An installation whose library is still in ./data: refused, saying how to go on.
    fs.mkdirSync('data');
    fs.writeFileSync('data/bookapi.db', '');
    assert.throws(
      () => loadConfig({ DATA_DIR: 'volume' }),
      (e: unknown) =>
        e instanceof ConfigError && /move that file .* or set DATABASE_URL=sqlite:/.test(e.message),
    );
    assert.equal(
      loadConfig({ DATA_DIR: 'volume', DATABASE_URL: 'sqlite:./data/bookapi.db' }).dataDir,
      path.resolve('volume'),
    );
    assert.equal(
      loadConfig({ DATA_DIR: 'data' }).database.kind,
      'sqlite',
      'the same folder: nothing stranded',
    );
    fs.mkdirSync('volume');
    fs.writeFileSync('volume/bookapi.db', '');
    assert.equal(loadConfig({ DATA_DIR: 'volume' }).dataDir, path.resolve('volume'), 'moved already');
  } finally {
    process.chdir(cwd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('every setting is read and converted', () => {
  const config = loadConfig({
    PORT: '8080',
    HOST: '0.0.0.0',
    DATABASE_URL: 'postgres://u@db:5432/books',
    DATA_DIR: '/var/lib/bookapi',
    JWT_SECRET: 'a8f5f167f44f4964e6c998dee827110c',
    ACCESS_TOKEN_TTL: '1h',
    LOG_LEVEL: 'WARN',
    CORS_ORIGINS: 'https://a.example,https://b.example:8443',
  });
  assert.equal(config.port, 8080);
  assert.deepEqual(config.database, { kind: 'postgres', url: 'postgres://u@db:5432/books' });
  assert.equal(config.dataDir, '/var/lib/bookapi');
  assert.equal(config.accessTokenTtl, 3600);
  assert.equal(config.logLevel, 'warn');
  assert.deepEqual(config.corsOrigins, ['https://a.example', 'https://b.example:8443']);
});

test('durations accept seconds, s, m, h and d', () => {
  for (const [value, seconds] of [
    ['900', 900],
    ['90s', 90],
    ['15m', 900],
    ['2h', 7200],
    ['1d', 86400],
  ] as const) {
    assert.equal(loadConfig({ ACCESS_TOKEN_TTL: value }).accessTokenTtl, seconds, value);
  }
});

const bad: [string, Record<string, string>, RegExp][] = [
  ['a short secret', { JWT_SECRET: 'secret' }, /JWT_SECRET must be at least 32 bytes/],
  ['a repetitive secret', { JWT_SECRET: 'a'.repeat(64) }, /JWT_SECRET is guessable/],
  [
    'a secret made of words',
    { JWT_SECRET: 'changeme-changeme-changeme-changeme' },
    /JWT_SECRET is guessable/,
  ],
  ['a non-numeric port', { PORT: 'http' }, /PORT must be a number/],
  ['a port out of range', { PORT: '70000' }, /PORT must be a number/],
  ['an unknown database', { DATABASE_URL: 'mysql://x' }, /DATABASE_URL must start with sqlite:/],
  ['an empty sqlite path', { DATABASE_URL: 'sqlite:' }, /needs a file path/],
  ['a zero TTL', { ACCESS_TOKEN_TTL: '0' }, /ACCESS_TOKEN_TTL must be a positive duration/],
  ['a TTL without a number', { ACCESS_TOKEN_TTL: 'soon' }, /ACCESS_TOKEN_TTL/],
  ['an unknown log level', { LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
  ['a CORS origin with a path', { CORS_ORIGINS: 'https://a.example/app' }, /CORS_ORIGINS/],
  ['a short ADMIN_PASSWORD', { ADMIN_USERNAME: 'boss', ADMIN_PASSWORD: 'x' }, /ADMIN_PASSWORD must be 8-128/],
  [
    'a common ADMIN_PASSWORD',
    { ADMIN_USERNAME: 'boss', ADMIN_PASSWORD: 'Password123' },
    /ADMIN_PASSWORD is too common/,
  ],
  ['a SHUTDOWN_GRACE past a timer', { SHUTDOWN_GRACE: '30d' }, /SHUTDOWN_GRACE must be at most 1 day/],
  ['a DB_QUERY_TIMEOUT past a timer', { DB_QUERY_TIMEOUT: '30d' }, /DB_QUERY_TIMEOUT must be at most 1 hour/],
  ['a DB_QUERY_TIMEOUT past the request', { DB_QUERY_TIMEOUT: '1m' }, /at most half of REQUEST_TIMEOUT/],
];

for (const [name, env, message] of bad) {
  test(`${name} is refused with a one-line ConfigError`, () => {
    assert.throws(
      () => loadConfig(env),
      (error: unknown) =>
        error instanceof ConfigError && message.test(error.message) && !error.message.includes('\n'),
    );
  });
}

test('the generated secret is 256 random bits, kept with mode 0600 and reused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-secret-'));
  try {
    const first = loadOrCreateSecret(path.join(dir, 'nested'));
    assert.equal(first.created, true);
    assert.equal(Buffer.from(first.secret, 'base64url').length, 32);
    assert.equal(fs.statSync(first.file).mode & 0o777, 0o600);
    const second = loadOrCreateSecret(path.join(dir, 'nested'));
    assert.equal(second.created, false);
    assert.equal(second.secret, first.secret);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('DB_QUERY_TIMEOUT: 5 s by default, else a positive duration', () => {
  assert.equal(loadConfig({}).dbQueryTimeout, 5);
  assert.equal(loadConfig({ DB_QUERY_TIMEOUT: '1' }).dbQueryTimeout, 1);
  assert.equal(loadConfig({ DB_QUERY_TIMEOUT: '1m', REQUEST_TIMEOUT: '2m' }).dbQueryTimeout, 60);
  // Unset, it follows a short REQUEST_TIMEOUT down.
  assert.equal(loadConfig({ REQUEST_TIMEOUT: '4', HEADERS_TIMEOUT: '2' }).dbQueryTimeout, 2);
  assert.equal(loadConfig({ REQUEST_TIMEOUT: '1', HEADERS_TIMEOUT: '1' }).dbQueryTimeout, 1);
  assert.throws(
    () => loadConfig({ DB_QUERY_TIMEOUT: '20s' }),
    /DB_QUERY_TIMEOUT \(20s\) must be at most half of REQUEST_TIMEOUT \(30s\)/,
  );
  assert.throws(() => loadConfig({ DB_QUERY_TIMEOUT: '0' }), /DB_QUERY_TIMEOUT must be a positive duration/);
});

test('METRICS_TOKEN and METRICS_PORT: refused when they could leak the signing key or never work', () => {
  const secret = 'f'.repeat(8) + randomHex();
  assert.throws(
    () => loadConfig({ JWT_SECRET: secret, METRICS_TOKEN: secret }),
    /METRICS_TOKEN must differ from JWT_SECRET/,
  );
  assert.throws(
    () => loadConfig({ METRICS_TOKEN: `${randomHex()} ${randomHex()}` }),
    /METRICS_TOKEN may hold only/,
  );
  assert.throws(
    () => loadConfig({ METRICS_TOKEN: 'short' }),
    (e: Error) => !/unset to have one generated/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ PORT: '9464', METRICS_PORT: '9464' }),
    /METRICS_PORT must differ from PORT/,
  );
  assert.equal(loadConfig({ PORT: '0', METRICS_PORT: '0' }).metrics.port, 0);
  assert.equal(loadConfig({ METRICS_TOKEN: randomHex() }).metrics.token?.length, 64);
});

function randomHex(): string {
  return crypto.randomBytes(32).toString('hex');
}
