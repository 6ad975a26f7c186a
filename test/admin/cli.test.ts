// The operator commands, run as an operator would: child processes on a real SQLite file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { buildApp } from '../../src/app.js';
import { loadKeyRing } from '../../src/auth/keys.js';
import { loadConfig } from '../../src/config.js';
import { body, TEST_SECRET } from '../helpers.js';

/** `bookapi …` as a child process. */
function run(args: string[], env: Record<string, string>, input = '') {
  return spawnSync(process.execPath, ['--import', 'tsx', path.resolve('src/cli/index.ts'), ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    input,
    encoding: 'utf8',
  });
}

test('admin create makes an admin that can log in and reach admin routes; again, it says so', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = {
    DATABASE_URL: `sqlite:${path.join(dir, 'books.db')}`,
    BOOKAPI_ADMIN_PASSWORD: 'a long admin passphrase',
  };
  const first = run(['admin', 'create', '--username', 'boss'], env);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /created admin boss/);
  const second = run(['admin', 'create', '--username', 'boss'], env);
  assert.match(second.stdout, /already an admin: boss/);
  const weak = run(['admin', 'create', '--username', 'weak'], {
    ...env,
    BOOKAPI_ADMIN_PASSWORD: 'password1234',
  });
  assert.equal(weak.status, 2);
  assert.match(weak.stderr, /too common/);
  const prompted = run(
    ['admin', 'create', '--username', 'typed'],
    { DATABASE_URL: env.DATABASE_URL },
    'typed at the prompt\n',
  );
  assert.equal(prompted.status, 0, prompted.stderr);

  const config = {
    ...loadConfig({ DATABASE_URL: env.DATABASE_URL, LOG_LEVEL: 'silent' }),
    jwtSecret: TEST_SECRET,
  };
  const app = await buildApp({ config });
  t.after(() => app.close());
  for (const [username, password] of [
    ['boss', env.BOOKAPI_ADMIN_PASSWORD],
    ['typed', 'typed at the prompt'],
  ]) {
    const login = await app.inject({ method: 'POST', url: '/login', payload: { username, password } });
    assert.equal(login.statusCode, 201, username);
    const token = body<{ token: string }>(login).token;
    const users = await app.inject({
      method: 'GET',
      url: '/admin/users',
      headers: { 'x-access-token': token },
    });
    assert.equal(users.statusCode, 200, username);
  }
});

test('keys generate writes a key file (mode 0600) that JWT_KEYS_FILE loads, newest first', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-keys-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'keys.json');
  assert.equal(run(['keys', 'generate', '--file', file], {}).status, 0);
  const second = run(['keys', 'generate', '--file', file, '--alg', 'ES256'], {});
  assert.equal(second.status, 0, second.stderr);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const ring = loadKeyRing(loadConfig({ JWT_KEYS_FILE: file }).jwtKeys);
  assert.deepEqual(
    ring.map((k) => k.alg),
    ['ES256', 'EdDSA'],
  );
  assert.ok(ring[0]?.privatePem);
});

test('admin promote needs the account’s own password, or --force and a warning; admin create never takes over an account', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const DATABASE_URL = `sqlite:${path.join(dir, 'books.db')}`;
  const config = { ...loadConfig({ DATABASE_URL, LOG_LEVEL: 'silent' }), jwtSecret: TEST_SECRET };
  const app = await buildApp({ config });
  t.after(() => app.close());
  const signup = (username: string, password: string) =>
    app.inject({ method: 'POST', url: '/signup', payload: { username, password } });
  const isAdmin = async (username: string, password: string) => {
    const login = await app.inject({ method: 'POST', url: '/login', payload: { username, password } });
    assert.equal(login.statusCode, 201, login.body);
    const users = await app.inject({
      method: 'GET',
      url: '/admin/users',
      headers: { 'x-access-token': body<{ token: string }>(login).token },
    });
    return users.statusCode === 200;
  };
  assert.equal((await signup('Owner', 'the owner password')).statusCode, 201);
  assert.equal((await signup('stranger', 'a stranger password')).statusCode, 201);

  // Someone else's account: another password does not promote it, whatever the case typed.
  const taken = run(['admin', 'create', '--username', 'owner'], {
    DATABASE_URL,
    BOOKAPI_ADMIN_PASSWORD: 'not the owner password',
  });
  assert.equal(taken.status, 2);
  assert.match(
    taken.stderr,
    /owner is already registered \(as Owner\); if that account is yours, run `bookapi admin promote --username Owner`/,
  );
  const wrong = run(['admin', 'promote', '--username', 'owner'], {
    DATABASE_URL,
    BOOKAPI_ADMIN_PASSWORD: 'not the owner password',
  });
  assert.notEqual(wrong.status, 0);
  assert.match(
    wrong.stderr,
    /owner is already registered \(as Owner\) with a password other than the one given/,
  );
  assert.match(wrong.stderr, /--force/);
  assert.equal(await isAdmin('Owner', 'the owner password'), false);

  // Its own password, typed at the prompt: promoted.
  const own = run(['admin', 'promote', '--username', 'OWNER'], { DATABASE_URL }, 'the owner password\n');
  assert.equal(own.status, 0, own.stderr);
  assert.match(own.stdout, /promoted to admin Owner/);
  assert.equal(await isAdmin('owner', 'the owner password'), true);
  const again = run(['admin', 'promote', '--username', 'ｏｗｎｅｒ'], { DATABASE_URL });
  assert.match(again.stdout, /already an admin: Owner/);

  // --force: no password asked, and the output says what that means.
  const forced = run(['admin', 'promote', '--username', 'stranger', '--force'], {
    DATABASE_URL,
  });
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(forced.stderr, /WARNING: promoted stranger to admin without checking its password/);
  assert.equal(await isAdmin('stranger', 'a stranger password'), true);

  // A new admin whose name looks like a registered one is refused.
  const lookalike = run(['admin', 'create', '--username', '\u0455tranger'], {
    DATABASE_URL,
    BOOKAPI_ADMIN_PASSWORD: 'a long admin passphrase',
  });
  assert.notEqual(lookalike.status, 0);
  assert.match(lookalike.stderr, /looks the same as the registered user stranger/);
});

test('admin list shows the admins; without a terminal and without a password the message says how to give one', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const DATABASE_URL = `sqlite:${path.join(dir, 'books.db')}`;
  const none = run(['admin', 'list'], { DATABASE_URL });
  assert.equal(none.status, 0, none.stderr);
  assert.match(none.stdout, /no admin yet/);

  const silent = run(['admin', 'create', '--username', 'root'], { DATABASE_URL }, '');
  assert.equal(silent.status, 2);
  assert.match(
    silent.stderr,
    /no password given: stdin is not a terminal, so set BOOKAPI_ADMIN_PASSWORD or pipe the password \(one non-empty line\) on stdin/,
  );

  assert.equal(
    run(['admin', 'create', '--username', 'root'], { DATABASE_URL }, 'a long admin passphrase\n').status,
    0,
  );
  const list = run(['admin', 'list'], { DATABASE_URL });
  assert.match(list.stdout, /^root\t[0-9a-f-]{36}\tactive\tsince /m);

  const unknown = run(['admin', 'promote', '--username', 'nobody'], { DATABASE_URL });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /nobody is not registered/);
  assert.equal(run(['admin', 'create'], { DATABASE_URL }).status, 2, 'missing --username is a usage error');
});
