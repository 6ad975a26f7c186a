// A production install as an operator makes it: the built dist/ with only the production
// dependencies (no TypeScript, no tsx), run through npm start and npx bookapi.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

let root = '';

before(() => {
  // The build under test: compiled now if dist/ is missing or older than src/.
  const build = spawnSync(process.execPath, ['bin/ensure-build.mjs'], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-prod-'));
  // What the README says to copy (and node_modules, pruned below).
  for (const entry of ['package.json', 'package-lock.json', 'bin', 'dist', 'node_modules']) {
    fs.cpSync(entry, path.join(root, entry), { recursive: true, verbatimSymlinks: true });
  }
  // What `npm ci --omit=dev` leaves, without compiling better-sqlite3 again.
  const prune = spawnSync('npm', ['prune', '--omit=dev', '--no-audit', '--no-fund'], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(prune.status, 0, prune.stderr);
  assert.equal(
    fs.existsSync(path.join(root, 'node_modules', 'typescript')),
    false,
    'dev dependencies were pruned',
  );
  assert.equal(fs.existsSync(path.join(root, 'node_modules', 'tsx')), false);
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

const env = (dir: string, extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? os.tmpdir(),
  DATA_DIR: dir,
  DATABASE_URL: `sqlite:${path.join(dir, 'books.db')}`,
  PORT: '0',
  ...extra,
});

function run(
  command: string,
  args: string[],
  environment: Record<string, string>,
): ChildProcess & { text(): string } {
  // Its own process group, so a failed test can end npm and everything it started.
  const child = spawn(command, args, {
    cwd: root,
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let text = '';
  child.stdout?.on('data', (c: Buffer) => {
    text += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    text += c.toString();
  });
  return Object.assign(child, { text: () => text });
}

async function waitFor(pattern: RegExp, text: () => string, ms = 30_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const match = pattern.exec(text());
    if (match) return match;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${pattern}:\n${text()}`);
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

test('npm start serves from the build (no rebuild, no TypeScript), logs one summary, and SIGTERM to npm stops the server', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-prod-data-'));
  const npm = run('npm', ['start'], env(dir, { LOG_FORMAT: 'json' }));
  try {
    const [, url] = await waitFor(/bookapi [\d.]+ ready at (http:\/\/127\.0\.0\.1:\d+)/, npm.text);
    assert.doesNotMatch(npm.text(), /tsc|building dist/);
    const summary =
      npm
        .text()
        .split('\n')
        .find((l) => l.includes('"event":"startup"')) ?? '';
    const fields = JSON.parse(summary) as Record<string, unknown>;
    assert.equal(fields.database, `SQLite ${path.join(dir, 'books.db')}`);
    assert.equal(fields.docs, `${url}/docs`);
    assert.match(String(fields.signing), /HS256 with the newly generated secret in /);
    assert.ok((fields.migrations as { applied: string[] }).applied.includes('0001_users_and_books'));
    assert.equal((await fetch(`${url}/health`)).status, 200);
    await new Promise((r) => setTimeout(r, 300));
    assert.doesNotMatch(npm.text(), /"url":"\/health"/, 'health probes are not logged at info');

    npm.kill('SIGTERM');
    await exited(npm);
    // The server itself must be gone, not orphaned behind npm.
    const { port } = new URL(url ?? '');
    const stillListening = await new Promise<boolean>((resolve) => {
      const socket = net.connect(Number(port), '127.0.0.1');
      socket.once('connect', () => resolve(socket.destroy() !== undefined));
      socket.once('error', () => resolve(false));
    });
    assert.equal(stillListening, false, 'the server outlived npm');
  } finally {
    killGroup(npm);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('npx bookapi works in a production install: migrate, --help, admin create', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-prod-data-'));
  try {
    const migrate = spawnSync('npx', ['--no-install', 'bookapi', 'migrate', 'up'], {
      cwd: root,
      env: env(dir),
      encoding: 'utf8',
    });
    assert.equal(migrate.status, 0, migrate.stderr);
    assert.match(migrate.stdout, /applied 0001_users_and_books/);
    const help = spawnSync('npx', ['--no-install', 'bookapi', '--help'], {
      cwd: root,
      env: env(dir),
      encoding: 'utf8',
    });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /Exit codes: 0 done, 1 runtime failure, 2 usage or configuration error/);
    const admin = spawnSync('npx', ['--no-install', 'bookapi', 'admin', 'create', '--username', 'root'], {
      cwd: root,
      env: env(dir),
      input: 'a long admin passphrase\n',
      encoding: 'utf8',
    });
    assert.equal(admin.status, 0, admin.stderr);
    assert.match(admin.stdout, /created admin root/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('WORKERS=2 on a port already taken exits non-zero within seconds, naming the port', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-prod-data-'));
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address() as net.AddressInfo;
  const started = Date.now();
  const server = run(process.execPath, ['dist/server.js'], env(dir, { WORKERS: '2', PORT: String(port) }));
  try {
    const code = await Promise.race([
      exited(server),
      new Promise((r) => setTimeout(() => r('hung'), 20_000)),
    ]);
    assert.notEqual(code, 'hung', `still running:\n${server.text()}`);
    assert.equal(code, 1);
    assert.ok(Date.now() - started < 20_000);
    assert.match(
      server.text(),
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: port ${port} is already in use`),
    );
    assert.match(server.text(), /a worker failed to start/);
    assert.doesNotMatch(server.text(), /ready at/);
  } finally {
    killGroup(server);
    blocker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a HOST that does not resolve is a configuration error: one line naming HOST, exit 2, with one process or two', async () => {
  for (const workers of ['1', '2']) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-prod-data-'));
    const server = run(
      process.execPath,
      ['dist/server.js'],
      env(dir, { WORKERS: workers, HOST: 'no-such-host.invalid' }),
    );
    try {
      const code = await Promise.race([
        exited(server),
        new Promise((r) => setTimeout(() => r('hung'), 30_000)),
      ]);
      assert.equal(code, 2, `WORKERS=${workers}:\n${server.text()}`);
      assert.match(
        server.text(),
        /bookapi: HOST "no-such-host\.invalid" is a name this machine cannot resolve/,
      );
    } finally {
      killGroup(server);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});
