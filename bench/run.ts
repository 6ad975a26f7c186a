// The benchmark harness: `npm run bench`. It starts the built server as `npm start` would
// (NODE_ENV=production, LOG_LEVEL=warn) and a bare node:http reference answering the same bytes,
// drives both with autocannon (32 connections) in interleaved rounds, and reports medians,
// spreads and ratios. It reports; it asserts nothing.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import SQLite from 'better-sqlite3';
import pg from 'pg';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 32;
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL;
const SECRET = randomBytes(32).toString('hex');
const USER = { username: 'bench', password: 'bench passphrase 2026' };
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-bench-'));

interface Run {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}
interface Row {
  scenario: string;
  runs: Run[];
  reference?: Run[];
  goal?: string;
  note?: string;
}
const rows: Row[] = [];
const memory: Record<string, number> = {};
const extra: Record<string, unknown> = {};
const children = new Set<ChildProcess>();

const progress = (text: string) => process.stderr.write(`\x1b[2K\r▶ ${text}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function startApp(env: Record<string, string>): Promise<{ base: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/server.js'], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      JWT_SECRET: SECRET,
      LOGIN_MAX_FAILURES: '100000',
      LOGIN_IP_MAX_FAILURES: '100000',
      SIGNUP_IP_MAX: '100000',
      BOOKAPI_LOOP_STATS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/ready`)).ok) return { base, child };
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the server did not become ready');
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  children.delete(child);
}

interface Target {
  method?: 'GET' | 'POST';
  path: string;
  body?: string;
  headers?: Record<string, string>;
  connections?: number;
  duration?: number;
}

let unique = 0;

async function load(base: string, t: Target): Promise<Run> {
  const method = t.method ?? 'GET';
  const headers = { 'content-type': 'application/json', ...t.headers };
  const body = t.body;
  // A body with "[<id>]" gets a fresh number in every request (autocannon's own idReplacement
  // sends nothing in this version), so each POST creates a new book.
  const requests =
    body?.includes('[<id>]') === true
      ? [
          {
            method,
            path: t.path,
            headers,
            setupRequest: (req: object) => ({ ...req, body: body.replace('[<id>]', String(++unique)) }),
          },
        ]
      : undefined;
  const result = await autocannon({
    url: `${base}${t.path}`,
    method,
    connections: t.connections ?? CONNECTIONS,
    duration: t.duration ?? DURATION,
    headers,
    body: requests ? undefined : body,
    ...(requests ? { requests } : {}),
  });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/** What the real server answers, recorded so the reference can send the same bytes. */
async function record(base: string, t: Target, answers: unknown[]): Promise<void> {
  const res = await fetch(`${base}${t.path.replace('[<id>]', 'x')}`, {
    method: t.method ?? 'GET',
    headers: { 'content-type': 'application/json', ...t.headers },
    body: t.body?.replace('[<id>]', `recorded-${Date.now()}`),
  });
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!['date', 'content-length', 'connection', 'keep-alive'].includes(name)) headers[name] = value;
  });
  answers.push({
    method: t.method ?? 'GET',
    url: t.path,
    status: res.status,
    headers,
    body: await res.text(),
  });
}

async function startReference(answers: unknown[]): Promise<{ base: string; child: ChildProcess }> {
  const file = path.join(work, `answers-${Date.now()}.json`);
  fs.writeFileSync(file, JSON.stringify(answers));
  const port = await freePort();
  const child = spawn(process.execPath, ['bench/reference.mjs', String(port), file], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  await new Promise((r) => child.stdout?.once('data', r));
  return { base: `http://127.0.0.1:${port}`, child };
}

/** A B A B: the app and the reference take turns, so drift on a shared machine hits both. */
async function interleaved(name: string, app: string, ref: string, t: Target, goal?: string): Promise<Row> {
  const row: Row = { scenario: name, runs: [], reference: [], goal };
  for (let round = 1; round <= ROUNDS; round++) {
    progress(`${name}: round ${round}/${ROUNDS} (reference)`);
    row.reference?.push(await load(ref, t));
    progress(`${name}: round ${round}/${ROUNDS} (bookapi)`);
    row.runs.push(await load(app, t));
  }
  rows.push(row);
  return row;
}

function rssMb(pid: number | undefined): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

async function loopDelay(child: ChildProcess): Promise<{ p50: number; p99: number; max: number }> {
  const line = new Promise<string>((resolve) => {
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      if (text.includes('loopDelay')) {
        child.stdout?.off('data', onData);
        resolve(
          text
            .trim()
            .split('\n')
            .find((l) => l.includes('loopDelay')) ?? '{}',
        );
      }
    };
    child.stdout?.on('data', onData);
  });
  child.kill('SIGUSR2');
  return JSON.parse(await line).loopDelay;
}

async function api(base: string, method: string, url: string, body?: unknown, token?: string) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}

async function prepare(base: string, books: number): Promise<string> {
  await api(base, 'POST', '/signup', USER);
  const { token } = (await api(base, 'POST', '/login', USER)) as { token: string };
  for (let i = 1; i <= books; i++)
    await api(base, 'POST', '/bookapi/books', { title: `Book ${i}`, author: 'Seed' }, token);
  return token;
}

function seed100k(file: string): void {
  const db = new SQLite(file);
  db.pragma('busy_timeout = 10000');
  const now = new Date().toISOString();
  const insert = db.prepare(
    'insert into books (title, author, title_key, author_key, owner_id, created_at, updated_at) values (?, ?, ?, ?, 1, ?, ?)',
  );
  db.transaction(() => {
    for (let i = 0; i < 100_000; i++) insert.run(`Deep ${i}`, 'Bulk', `deep ${i}`, 'bulk', now, now);
  })();
  // Fold the seed into the database file now, or the server's next write would do it mid-run.
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

async function main(): Promise<void> {
  if (!fs.existsSync('dist/server.js')) throw new Error('run `npm run build` first (npm run bench does)');
  const file = path.join(work, 'bench.db');
  const app = await startApp({ DATABASE_URL: `sqlite:${file}` });
  await new Promise((r) => setTimeout(r, 1000));
  memory.idle = rssMb(app.child.pid);
  const token = await prepare(app.base, 10);
  const auth = { authorization: `Bearer ${token}` };
  const list: Target = { path: '/bookapi/books', headers: auth };
  const item: Target = { path: '/bookapi/books/5', headers: auth };
  const create: Target = {
    method: 'POST',
    path: '/bookapi/books',
    headers: auth,
    body: JSON.stringify({ title: 'Bench [<id>]', author: 'Load' }),
  };
  const answers: unknown[] = [];
  for (const t of [list, item, create]) await record(app.base, t, answers);
  let ref = await startReference(answers);

  progress('warm-up');
  await load(app.base, { ...list, duration: 2 });
  await load(ref.base, { ...list, duration: 2 });

  const s1 = await interleaved(
    '1. GET /bookapi/books (10 books)',
    app.base,
    ref.base,
    list,
    '≥ 0.5× (stretch 0.7×)',
  );
  const rounds = [rssMb(app.child.pid)];
  await interleaved('2. GET /bookapi/books/:id', app.base, ref.base, item);
  rounds.push(rssMb(app.child.pid));
  await interleaved('3. POST /bookapi/books', app.base, ref.base, create);
  rounds.push(rssMb(app.child.pid));
  for (let round = 1; round <= ROUNDS; round++) {
    progress(`6. memory: list round ${round}/${ROUNDS}`);
    await load(app.base, list);
    rounds.push(rssMb(app.child.pid));
  }
  extra.rssAfterEachRunMb = rounds;

  progress('seeding 100,000 books');
  seed100k(file);
  memory.after100kBooks = rssMb(app.child.pid);
  const first: Target = { path: '/bookapi/books?limit=100', headers: auth };
  const deep: Target = { path: '/bookapi/books?limit=100&after=99000', headers: auth };
  const answers4: unknown[] = [];
  for (const t of [first, deep]) await record(app.base, t, answers4);
  await stop(ref.child);
  ref = await startReference(answers4);
  const r4a = await interleaved('4a. 100k books, first page (limit 100)', app.base, ref.base, first);
  const r4b = await interleaved(
    '4b. 100k books, deep keyset page',
    app.base,
    ref.base,
    deep,
    'within 10% of 4a',
  );
  extra.deepVsFirst = Number(
    (median(r4b.runs.map((r) => r.rps)) / median(r4a.runs.map((r) => r.rps))).toFixed(3),
  );

  progress('5. event-loop delay under the list load alone');
  await loopDelay(app.child); // resets the histogram
  await load(app.base, list);
  const listOnlyDelay = await loopDelay(app.child);
  progress('5. login flood with the list running alongside');
  const [logins, during] = await Promise.all([
    load(app.base, { method: 'POST', path: '/login', body: JSON.stringify(USER), connections: 8 }),
    load(app.base, list),
  ]);
  const delay = await loopDelay(app.child);
  const idleP99 = median(s1.runs.map((r) => r.p99));
  rows.push({ scenario: '5a. POST /login, 8 concurrent clients', runs: [logins] });
  rows.push({
    scenario: '5b. list during the login flood',
    runs: [during],
    goal: 'p99 ≤ 3× idle p99',
    note: `idle p99 ${idleP99} ms → ${(during.p99 / Math.max(idleP99, 1)).toFixed(1)}×`,
  });
  extra.loginFlood = {
    loginsPerSecond: logins.rps,
    listP99Idle: idleP99,
    listP99During: during.p99,
    eventLoopDelayMs: delay,
    eventLoopDelayListOnlyMs: listOnlyDelay,
  };
  memory.afterRuns = rssMb(app.child.pid);
  await stop(app.child);

  if (POSTGRES_URL) {
    const schema = `bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    try {
      const pgApp = await startApp({ DATABASE_URL: url.toString() });
      const pgList = { ...list, headers: { authorization: `Bearer ${await prepare(pgApp.base, 10)}` } };
      const pgAnswers: unknown[] = [];
      await record(pgApp.base, pgList, pgAnswers);
      const pgRef = await startReference(pgAnswers);
      await load(pgApp.base, { ...pgList, duration: 2 });
      await interleaved('7. PostgreSQL: GET /bookapi/books (10 books)', pgApp.base, pgRef.base, pgList);
      await stop(pgApp.child);
      await stop(pgRef.child);
    } finally {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    }
  } else {
    rows.push({ scenario: '7. PostgreSQL', runs: [], note: 'skipped: set BENCH_POSTGRES_URL' });
  }

  progress('8. WORKERS=2');
  const two = await startApp({ DATABASE_URL: `sqlite:${file}`, WORKERS: '2' });
  const answers8: unknown[] = [];
  await record(two.base, list, answers8);
  await stop(ref.child);
  ref = await startReference(answers8);
  await load(two.base, { ...list, duration: 2 });
  const r8 = await interleaved('8. WORKERS=2: GET /bookapi/books?limit=10', two.base, ref.base, {
    ...list,
    path: '/bookapi/books?limit=10',
  });
  extra.workers2VsReference = r8;
  await stop(two.child);
  await stop(ref.child);

  report();
}

function report(): void {
  process.stderr.write('\x1b[2K\r');
  // The raw results first, so nothing below can lose a run.
  fs.mkdirSync('bench/results', { recursive: true });
  const out = path.join('bench/results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(
    out,
    JSON.stringify({ date: new Date().toISOString(), node: process.version, rows, memory, extra }, null, 2),
  );
  const fmt = (n: number) => n.toLocaleString('en-US');
  const lines = [
    `bookapi benchmark — ${new Date().toISOString()} — node ${process.version}, ${os.cpus().length} cores, ${CONNECTIONS} connections, ${ROUNDS} rounds × ${DURATION}s`,
    '',
    '| scenario | req/s (median) | spread | p50 ms | p99 ms | reference req/s | × reference | goal |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const row of rows) {
    if (row.runs.length === 0) {
      lines.push(`| ${row.scenario} | — | | | | | | ${row.note ?? ''} |`);
      continue;
    }
    const rps = row.runs.map((r) => r.rps);
    const ref = row.reference?.map((r) => r.rps) ?? [];
    const ratio = ref.length ? (median(rps) / median(ref)).toFixed(2) : '';
    const bad = row.runs.reduce((n, r) => n + r.errors + r.non2xx, 0);
    lines.push(
      `| ${row.scenario} | ${fmt(median(rps))} | ${fmt(Math.min(...rps))}–${fmt(Math.max(...rps))} | ${median(row.runs.map((r) => r.p50))} | ${median(row.runs.map((r) => r.p99))} | ${ref.length ? fmt(median(ref)) : ''} | ${ratio} | ${[row.goal, row.note, bad ? `${bad} errors/non-2xx` : ''].filter(Boolean).join('; ')} |`,
    );
  }
  const flood = extra.loginFlood as {
    eventLoopDelayMs: { p99: number };
    eventLoopDelayListOnlyMs: { p99: number };
  };
  lines.push(
    '',
    `Deep keyset page / first page: ${extra.deepVsFirst}× (goal ≥ 0.9)`,
    `Event-loop delay p99: ${flood.eventLoopDelayMs.p99} ms during the login flood + list load (goal ≤ 10 ms); ${flood.eventLoopDelayListOnlyMs.p99} ms under the list load alone`,
    `Memory (RSS): idle ${memory.idle} MB (goal ≤ 80), after seeding 100k books ${memory.after100kBooks} MB, after the runs ${memory.afterRuns} MB`,
    `RSS after each run of scenarios 1-3 and the extra list rounds (MB): ${(extra.rssAfterEachRunMb as number[]).join(', ')}`,
  );
  console.log(lines.join('\n'));
  console.log(`\nraw results: ${out}`);
}

main()
  .catch((error) => {
    console.error(`\nbenchmark failed: ${error instanceof Error ? error.stack : error}`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill('SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
  });
