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

function run(script: string, args: string[], env: Record<string, string>, input = '') {
  return spawnSync(process.execPath, ['--import', 'tsx', path.resolve(script), ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    input,
    encoding: 'utf8',
  });
}

test('create-admin creates an admin that can log in and reach admin routes; again, it says so', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = {
    DATABASE_URL: `sqlite:${path.join(dir, 'books.db')}`,
    BOOKAPI_ADMIN_PASSWORD: 'a long admin passphrase',
  };
  const first = run('src/cli/create-admin.ts', ['--username', 'boss'], env);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /created admin boss/);
  const second = run('src/cli/create-admin.ts', ['--username', 'boss'], env);
  assert.match(second.stdout, /already an admin: boss/);
  const weak = run('src/cli/create-admin.ts', ['--username', 'weak'], {
    ...env,
    BOOKAPI_ADMIN_PASSWORD: 'password1234',
  });
  assert.equal(weak.status, 2);
  assert.match(weak.stderr, /too common/);
  const prompted = run(
    'src/cli/create-admin.ts',
    ['--username', 'typed'],
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

test('keys:generate writes a key file (mode 0600) that JWT_KEYS_FILE loads, newest first', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-keys-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'keys.json');
  assert.equal(run('src/cli/generate-key.ts', ['--file', file], {}).status, 0);
  const second = run('src/cli/generate-key.ts', ['--file', file, '--alg', 'ES256'], {});
  assert.equal(second.status, 0, second.stderr);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const ring = loadKeyRing(loadConfig({ JWT_KEYS_FILE: file }).jwtKeys);
  assert.deepEqual(
    ring.map((k) => k.alg),
    ['ES256', 'EdDSA'],
  );
  assert.ok(ring[0]?.privatePem);
});
