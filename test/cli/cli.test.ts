// The `bookapi` command's contract: help everywhere, exit codes, and configuration errors that
// name the variable and the fix — each one line, exit code 2.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { bookapi } from './run.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-cli-'));

const COMMANDS = [
  [],
  ['serve'],
  ['migrate'],
  ['migrate', 'up'],
  ['migrate', 'down'],
  ['migrate', 'status'],
  ['admin'],
  ['admin', 'create'],
  ['admin', 'promote'],
  ['admin', 'list'],
  ['keys'],
  ['keys', 'generate'],
  ['keys', 'list'],
  ['books'],
  ['books', 'import'],
  ['books', 'export'],
];

test('--help works on every command, exits 0 and shows examples', () => {
  for (const command of COMMANDS) {
    const result = bookapi([...command, '--help']);
    assert.equal(result.status, 0, `${command.join(' ')} --help: ${result.stderr}`);
    assert.match(result.stdout, /^Usage: bookapi/m, command.join(' '));
    assert.match(result.stdout, /Examples:\n {2}\$ bookapi/, command.join(' '));
  }
});

test('an unknown option or command prints the usage and exits 2', () => {
  const option = bookapi(['serve', '--prot', '80']);
  assert.equal(option.status, 2);
  assert.match(option.stderr, /unknown option '--prot'/);
  assert.match(option.stderr, /Usage: bookapi serve/);
  const command = bookapi(['frobnicate']);
  assert.equal(command.status, 2);
  assert.match(command.stderr, /unknown command 'frobnicate'/);
  assert.equal(bookapi(['--version']).status, 0);
});

const CONFIG_ERRORS: [string, Record<string, string>, RegExp][] = [
  [
    'sqlite:// with a relative path (it used to create /data at the filesystem root)',
    { DATABASE_URL: 'sqlite://./data/bookapi.db' },
    /^bookapi: DATABASE_URL "sqlite:\/\/\.\/data\/bookapi\.db" is not a SQLite path: write sqlite:\.\/relative\/file\.db or sqlite:\/\/\/absolute\/file\.db$/,
  ],
  [
    'a PostgreSQL URL without a database name',
    { DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:5432/' },
    /^bookapi: DATABASE_URL must name a database: postgres:\/\/user@host:5432\/dbname \(postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:5432\/ names none\)$/,
  ],
  ['an unknown scheme', { DATABASE_URL: 'mysql://x/y' }, /^bookapi: DATABASE_URL must start with sqlite:/],
  [
    'a repetitive secret the README says is refused',
    { JWT_SECRET: 'changeme-changeme-changeme-changeme' },
    /^bookapi: JWT_SECRET is guessable .*openssl rand -hex 32/,
  ],
  ['a short secret', { JWT_SECRET: 'secret' }, /^bookapi: JWT_SECRET must be at least 32 bytes/],
  ['a bad REDIS_URL', { REDIS_URL: 'localhost:6379' }, /^bookapi: REDIS_URL must start with redis:\/\//],
  ['a bad LOG_FORMAT', { LOG_FORMAT: 'xml' }, /^bookapi: LOG_FORMAT must be one of auto, json, pretty/],
];

for (const [name, env, message] of CONFIG_ERRORS) {
  test(`configuration error — ${name}: one line naming the variable, exit code 2`, () => {
    const dir = tmp();
    try {
      const result = bookapi(['migrate', 'status'], { DATA_DIR: dir, ...env });
      assert.equal(result.status, 2, result.stderr);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0] ?? '', message);
      assert.equal(result.stderr.includes('hunter2'), false, 'a password was printed');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a SQLite file that cannot be opened is named, with what to check', () => {
  const dir = tmp();
  try {
    // A regular file where a directory should be: cannot be created, even by root.
    fs.writeFileSync(path.join(dir, 'blocker'), '');
    const file = path.join(dir, 'blocker', 'books.db');
    const result = bookapi(['migrate', 'status'], { DATABASE_URL: `sqlite:${file}`, DATA_DIR: dir });
    assert.equal(result.status, 2, result.stderr);
    assert.match(
      result.stderr.trim(),
      new RegExp(`^bookapi: cannot open the SQLite database ${file} \\(.+\\): check DATABASE_URL`),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a DATA_DIR where the generated secret cannot be written points at DATA_DIR and JWT_SECRET', () => {
  const dir = tmp();
  try {
    fs.writeFileSync(path.join(dir, 'not-a-dir'), '');
    const result = bookapi(['serve', '--port', '0'], {
      DATABASE_URL: 'sqlite::memory:',
      DATA_DIR: path.join(dir, 'not-a-dir', 'data'),
    });
    assert.equal(result.status, 2, result.stderr);
    assert.match(
      result.stderr.trim(),
      /^bookapi: cannot write the generated JWT secret to .*: set DATA_DIR to a directory this user can write, or set JWT_SECRET$/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('migrate: names the database, applies, lists, and asks before a revert that deletes data', () => {
  const dir = tmp();
  const env = { DATABASE_URL: `sqlite:${path.join(dir, 'books.db')}`, DATA_DIR: dir };
  try {
    const up = bookapi(['migrate', 'up'], env);
    assert.equal(up.status, 0, up.stderr);
    assert.match(up.stdout, new RegExp(`^database: SQLite ${path.join(dir, 'books.db')}$`, 'm'));
    assert.match(up.stdout, /^applied 0001_users_and_books$/m);
    assert.match(bookapi(['migrate'], env).stdout, /up to date: nothing to apply/);
    const status = bookapi(['migrate', 'status'], env);
    assert.doesNotMatch(status.stdout, /pending/);
    assert.match(status.stdout, /applied \S+ +0001_users_and_books/);

    // Revert down to 0002, which drops sessions: without a terminal, each revert that deletes
    // data (the audit log, tokens, sessions) asks for --yes and reverts nothing without it.
    let reverted = 0;
    for (;;) {
      const down = bookapi(['migrate', 'down'], env);
      if (down.status === 2) {
        const asked = /Reverting (\S+) deletes stored data in SQLite .*pass --yes to confirm\./.exec(
          down.stderr,
        );
        assert.ok(asked, down.stderr);
        if (asked[1] === '0002_sessions') break;
        const before = bookapi(['migrate', 'status'], env).stdout;
        assert.match(before, new RegExp(`applied \\S+ +${asked[1]}`), 'nothing reverted without --yes');
        const confirmed = bookapi(['migrate', 'down', '--yes'], env);
        assert.equal(confirmed.status, 0, confirmed.stderr);
        reverted++;
        continue;
      }
      assert.equal(down.status, 0, down.stderr);
      assert.match(down.stdout, /^reverted /m);
      reverted++;
      assert.ok(reverted < 20, 'never asked');
    }
    assert.match(
      bookapi(['migrate', 'status'], env).stdout,
      /applied \S+ +0002_sessions/,
      'nothing reverted without --yes',
    );
    for (const name of ['0002_sessions', '0001_users_and_books']) {
      const down = bookapi(['migrate', 'down', '--yes'], env);
      assert.equal(down.status, 0, down.stderr);
      assert.match(down.stdout, new RegExp(`^reverted ${name}$`, 'm'));
    }
    const none = bookapi(['migrate', 'down'], env);
    assert.equal(none.status, 0);
    assert.match(none.stdout, /nothing to revert/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('keys generate puts the new key first; keys list says which one signs', () => {
  const dir = tmp();
  const file = path.join(dir, 'keys.json');
  try {
    assert.equal(bookapi(['keys', 'generate', '--file', file]).status, 0);
    const second = bookapi(['keys', 'generate', '--file', file, '--alg', 'ES256']);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const list = bookapi(['keys', 'list', '--file', file]);
    assert.equal(list.status, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^signs +ES256 /);
    assert.match(lines[1] ?? '', /^verifies +EdDSA /);
    assert.equal(bookapi(['keys', 'generate', '--file', file, '--alg', 'RS256']).status, 2);
    const missing = bookapi(['keys', 'list', '--file', path.join(dir, 'nope.json')]);
    assert.equal(missing.status, 2, 'a mistyped file is an error, not an empty ring');
    assert.match(missing.stderr, /nope\.json does not exist/);
    const fromEnv = bookapi(['keys', 'list'], { JWT_KEYS_FILE: file });
    assert.equal(fromEnv.stdout, list.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
