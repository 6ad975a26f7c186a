// The real entry point, as an operator runs it: a child process, a port, signals.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

const ENTRY = path.resolve('src/server.ts');

function start(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exit };
}

async function listening(output: () => string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output());
    if (match?.[1]) return match[1];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server did not start:\n${output()}`);
}

async function json(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

for (const [name, env, message] of [
  ['a weak JWT_SECRET', { JWT_SECRET: 'secret' }, /^bookapi: JWT_SECRET must be at least 32 bytes/],
  ['a bad PORT', { PORT: 'eighty' }, /^bookapi: PORT must be a number/],
] as const) {
  test(`${name}: start fails with exit code 2 and one line, no stack trace`, async () => {
    const { output, exit } = start({ ...env, DATABASE_URL: 'sqlite::memory:' });
    assert.equal(await exit, 2);
    const lines = output().trim().split('\n');
    assert.equal(lines.length, 1, output());
    assert.match(lines[0] ?? '', message);
  });
}

test('without JWT_SECRET a secret is generated once and survives a restart; SIGTERM exits 0', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-server-'));
  const env = { DATABASE_URL: `sqlite:${path.join(dir, 'books.db')}` };
  const started: ChildProcess[] = [];
  try {
    const first = start(env);
    started.push(first.child);
    const base = await listening(first.output);
    assert.match(first.output(), /generated a random secret/);
    assert.equal(fs.statSync(path.join(dir, 'jwt-secret')).mode & 0o777, 0o600);
    const user = { username: 'restart', password: 'testing_p@ssword' };
    const post = (url: string, body: unknown) =>
      json(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal((await post(`${base}/signup`, user)).status, 201);
    const { token } = (await post(`${base}/login`, user)).body as { token: string };
    first.child.kill('SIGTERM');
    assert.equal(await first.exit, 0);

    const second = start(env);
    started.push(second.child);
    const base2 = await listening(second.output);
    // Said once, when generated; later starts only name the file in their summary (logged just after listening).
    for (let i = 0; i < 100 && !/"event":"startup"/.test(second.output()); i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.doesNotMatch(second.output(), /generated a random secret/);
    assert.match(second.output(), /tokens signed with HS256 with the generated secret in /);
    const books = await json(`${base2}/bookapi/books`, { headers: { 'x-access-token': token } });
    assert.deepEqual(books, { status: 200, body: { Books: [] } });
    second.child.kill('SIGINT');
    assert.equal(await second.exit, 0);
  } finally {
    // A failed assertion must not leave a server running: the test file would never end.
    for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('oversized request headers get 431 JSON; tokens and passwords never reach the log', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-server-'));
  const server = start({ DATABASE_URL: 'sqlite::memory:', DATA_DIR: dir, LOG_LEVEL: 'debug' });
  try {
    const base = await listening(server.output);
    const { port } = new URL(base);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.end(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(32 * 1024)}\r\n\r\n`);
      });
      let data = '';
      socket.on('data', (c) => {
        data += c.toString();
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 431 /);
    assert.match(raw, /\r\nx-content-type-options: nosniff\r\n/i);
    assert.match(raw, /\r\ncache-control: no-store\r\n/i);
    assert.match(raw, /\{"message":"Request headers are too large","code":"HEADERS_TOO_LARGE"\}$/);

    const password = 'log-canary-password';
    const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    await post(`${base}/signup`, { username: 'logger', password });
    const { token } = (await (await post(`${base}/login`, { username: 'logger', password })).json()) as {
      token: string;
    };
    await fetch(`${base}/bookapi/books`, { headers: { authorization: `Bearer ${token}` } });
    await fetch(`${base}/bookapi/books`, { headers: { 'x-access-token': `${token}x` } });
    await new Promise((r) => setTimeout(r, 200));
    assert.match(server.output(), /request completed/);
    assert.equal(server.output().includes(password), false, 'password in log');
    assert.equal(server.output().includes(token.split('.')[2] ?? token), false, 'token in log');
  } finally {
    server.child.kill('SIGTERM');
    await server.exit;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
