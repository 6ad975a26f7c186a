// The benchmark harness: `npm run bench`. It starts the built server as `npm start` would
// (NODE_ENV=production, LOG_LEVEL=warn) and a bare node:http reference answering the same bytes,
// drives both with autocannon (32 connections) in interleaved rounds, and reports medians,
// spreads, ratios and CPU time per request. Where the machine has the cores, the servers run on
// cores of their own and the load generator (this process) on another. It reports; it asserts
// nothing. BENCH_SCENARIOS=1,7 runs only those scenarios (by number). BENCH_METRICS=1 runs every
// server with the Prometheus metrics on (METRICS_TOKEN); scenario 9 compares off and on in turns.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { searchText } from '../src/books/search.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 32;
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL;
const SERVER = process.env.BENCH_SERVER ?? 'dist/server.js';
const ONLY = process.env.BENCH_SCENARIOS?.split(',').map((s) => s.trim());
const wanted = (n: string) => ONLY === undefined || ONLY.includes(n);
/** Load generator on core 0, servers on the others — when there are others and taskset exists. */
const CORES = os.availableParallelism();
const PIN = process.env.BENCH_PIN !== '0' && CORES >= 2 && spawnSync('taskset', ['-V']).status === 0;
const SERVER_CORES = `1-${CORES - 1}`;
const TICKS_PER_SECOND = 100; // USER_HZ, the unit of /proc/<pid>/stat times on Linux
const SECRET = randomBytes(32).toString('hex');
const METRICS_TOKEN = randomBytes(32).toString('hex');
const METRICS = process.env.BENCH_METRICS === '1';
const USER = { username: 'bench', password: 'bench passphrase 2026' };
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-bench-'));

interface Run {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** CPU time (user + system) of the server's processes per request answered. */
  cpuUs?: number;
  /** The same for the load generator (this process). */
  clientCpuUs?: number;
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

/** The command that runs `args` on the servers' cores (all cores with pin=false). */
function pinned(args: string[], pin = PIN): [string, string[]] {
  return pin ? ['taskset', ['-c', SERVER_CORES, ...args]] : [args[0] ?? '', args.slice(1)];
}

interface Server {
  base: string;
  child: ChildProcess;
}

async function startApp(env: Record<string, string>, pin = PIN): Promise<Server> {
  const port = await freePort();
  const [command, args] = pinned([process.execPath, SERVER], pin);
  const child = spawn(command, args, {
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
      ...(METRICS ? { METRICS_TOKEN } : {}),
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
  /** Another path for every request (the n-th), so that no answer comes from a cache. */
  vary?: (n: number) => string;
}

let unique = 0;

/** CPU seconds used so far by a process and its descendants still running (cluster workers). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  let ticks = 0;
  const visit = (p: number) => {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      for (const task of fs.readdirSync(`/proc/${p}/task`)) {
        const children = fs.readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        for (const child of children ? children.split(' ') : []) visit(Number(child));
      }
    } catch {
      // Gone meanwhile, or not Linux.
    }
  };
  visit(pid);
  return ticks / TICKS_PER_SECOND;
}

async function load(server: Server, t: Target): Promise<Run> {
  const cpuBefore = cpuSeconds(server.child.pid);
  const clientBefore = process.cpuUsage();
  const run = await drive(server.base, t);
  const cpu = cpuSeconds(server.child.pid) - cpuBefore;
  const client = process.cpuUsage(clientBefore);
  const answered = run.total;
  if (answered === 0) return run.run;
  return {
    ...run.run,
    ...(cpu > 0 ? { cpuUs: Math.round((cpu * 1e6) / answered) } : {}),
    clientCpuUs: Math.round((client.user + client.system) / answered),
  };
}

async function drive(base: string, t: Target): Promise<{ run: Run; total: number }> {
  const method = t.method ?? 'GET';
  const headers = { 'content-type': 'application/json', ...t.headers };
  const body = t.body;
  // A body with "[<id>]" gets a fresh number in every request (autocannon's own idReplacement
  // sends nothing in this version), so each POST creates a new book.
  const vary = t.vary;
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
      : vary
        ? [
            {
              method,
              path: t.path,
              headers,
              setupRequest: (req: object) => ({ ...req, path: vary(++unique) }),
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
    run: {
      rps: Math.round(result.requests.average),
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
    },
    total: result.requests.total,
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

async function startReference(answers: unknown[], pin = PIN): Promise<Server> {
  const file = path.join(work, `answers-${Date.now()}.json`);
  fs.writeFileSync(file, JSON.stringify(answers));
  const port = await freePort();
  const [command, args] = pinned([process.execPath, 'bench/reference.mjs', String(port), file], pin);
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  await new Promise((r) => child.stdout?.once('data', r));
  return { base: `http://127.0.0.1:${port}`, child };
}

/** A B A B: the app and the reference take turns, so drift on a shared machine hits both. */
async function interleaved(name: string, app: Server, ref: Server, t: Target, goal?: string): Promise<Row> {
  const [row] = await interleavedRows([{ name, target: t, goal }], app, ref);
  return row as Row;
}

/** Several targets in the same rounds: each round runs every target on the reference, then the app. */
async function interleavedRows(
  specs: { name: string; target: Target; goal?: string }[],
  app: Server,
  ref: Server,
): Promise<Row[]> {
  const made = specs.map((s): Row => ({ scenario: s.name, runs: [], reference: [], goal: s.goal }));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, spec] of specs.entries()) {
      progress(`${spec.name}: round ${round}/${ROUNDS} (reference)`);
      made[i]?.reference?.push(await load(ref, spec.target));
      progress(`${spec.name}: round ${round}/${ROUNDS} (bookapi)`);
      made[i]?.runs.push(await load(app, spec.target));
    }
  }
  rows.push(...made);
  return made;
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
    'insert into books (title, author, title_key, author_key, search_text, owner_id, created_at, updated_at) ' +
      'values (?, ?, ?, ?, ?, 1, ?, ?)',
  );
  db.transaction(() => {
    for (let i = 0; i < 100_000; i++)
      insert.run(`Deep ${i}`, 'Bulk', `deep ${i}`, 'bulk', searchText(`Deep ${i}`, 'Bulk'), now, now);
  })();
  // Fold the seed into the database file now, or the server's next write would do it mid-run.
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

async function main(): Promise<void> {
  if (!fs.existsSync(SERVER))
    throw new Error(`run \`npm run build\` first (npm run bench does): ${SERVER} is missing`);
  extra.pinned = PIN ? `servers on cores ${SERVER_CORES}, load generator on core 0` : 'not pinned';
  if (PIN) spawnSync('taskset', ['-a', '-c', '-p', '0', String(process.pid)]);
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
  await load(app, { ...list, duration: 2 });
  await load(ref, { ...list, duration: 2 });

  if (wanted('1'))
    await interleaved('1. GET /bookapi/books (10 books)', app, ref, list, '≥ 0.7× (stretch 0.9×)');
  const rounds = [rssMb(app.child.pid)];
  if (wanted('2')) {
    await interleaved('2. GET /bookapi/books/:id', app, ref, item, '≥ 0.6×');
    rounds.push(rssMb(app.child.pid));
  }
  if (wanted('3')) {
    await interleaved('3. POST /bookapi/books', app, ref, create, '≥ 0.3×');
    rounds.push(rssMb(app.child.pid));
  }
  if (wanted('6')) {
    for (let round = 1; round <= ROUNDS; round++) {
      progress(`6. memory: list round ${round}/${ROUNDS}`);
      await load(app, list);
      rounds.push(rssMb(app.child.pid));
    }
  }
  extra.rssAfterEachRunMb = rounds;
  if (wanted('9')) await metricsCost(file, list);

  if (wanted('4') || wanted('10')) {
    progress('seeding 100,000 books');
    seed100k(file);
    memory.after100kBooks = rssMb(app.child.pid);
  }
  if (wanted('4')) {
    const first: Target = { path: '/bookapi/books?limit=100', headers: auth };
    const deep: Target = { path: '/bookapi/books?limit=100&after=99000', headers: auth };
    const answers4: unknown[] = [];
    for (const t of [first, deep]) await record(app.base, t, answers4);
    await stop(ref.child);
    ref = await startReference(answers4);
    const [r4a, r4b] = await interleavedRows(
      [
        { name: '4a. 100k books, first page (limit 100)', target: first },
        { name: '4b. 100k books, deep keyset page', target: deep, goal: 'within 10% of 4a' },
      ],
      app,
      ref,
    );
    // Adjacent runs of the same round, so the machine's drift cancels out.
    extra.deepVsFirst = Number(
      median((r4b?.runs ?? []).map((r, i) => r.rps / (r4a?.runs[i]?.rps ?? Number.NaN))).toFixed(3),
    );
  }

  if (wanted('10')) ref = await searches(app, ref, auth);

  memory.afterRuns = rssMb(app.child.pid);
  await stop(app.child);
  if (wanted('5')) await loginFlood(file, list);

  if (!wanted('7')) {
    // not asked for
  } else if (POSTGRES_URL) {
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
      await load(pgApp, { ...pgList, duration: 2 });
      await interleaved('7. PostgreSQL: GET /bookapi/books (10 books)', pgApp, pgRef, pgList, '≥ 0.5×');
      await stop(pgApp.child);
      await stop(pgRef.child);
    } finally {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    }
  } else {
    rows.push({ scenario: '7. PostgreSQL', runs: [], note: 'skipped: set BENCH_POSTGRES_URL' });
  }

  if (wanted('8')) await workers(file, list);
  await stop(ref.child);
  report();
}

/**
 * Search over the 100,000 books of scenario 4 ("Deep <i>" by "Bulk"): a word in every book and a
 * word in one, first as every client asking the same (answered from the page cache, like 4a),
 * then with every request a different page or word, so each one reads the database (no
 * reference there: it has no answer for paths it has not seen).
 */
async function searches(app: Server, ref: Server, auth: Record<string, string>): Promise<Server> {
  const common: Target = { path: '/bookapi/books?limit=100&q=bulk', headers: auth };
  const rare: Target = { path: '/bookapi/books?limit=100&q=12345', headers: auth };
  const answers: unknown[] = [];
  for (const t of [common, rare]) await record(app.base, t, answers);
  await stop(ref.child);
  const searchRef = await startReference(answers);
  await interleavedRows(
    [
      { name: '10a. search, a word in all 100k books (cached)', target: common },
      { name: '10b. search, a word in 1 of 100k books (cached)', target: rare },
    ],
    app,
    searchRef,
  );
  const uncached = [
    {
      name: '10c. search, a word in all 100k books, every request another page',
      target: { ...common, vary: (n: number) => `${common.path}&after=${1 + ((n * 7919) % 99_900)}` },
    },
    {
      name: '10d. search, every request another word in 1 of 100k books',
      target: {
        ...rare,
        vary: (n: number) => `/bookapi/books?limit=100&q=${10_000 + ((n * 7919) % 90_000)}`,
      },
    },
  ];
  const made = uncached.map((u): Row => ({ scenario: u.name, runs: [] }));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, u] of uncached.entries()) {
      progress(`${u.name}: round ${round}/${ROUNDS}`);
      made[i]?.runs.push(await load(app, u.target));
    }
  }
  rows.push(...made);
  return searchRef;
}

/**
 * Logins hash on libuv's pool (cores − 1 threads) while the event loop serves the list: on a
 * server pinned to one core they would take turns on it, so here nothing is pinned, as in
 * production; the load generator then shares the machine's cores too.
 */
async function loginFlood(file: string, list: Target): Promise<void> {
  if (PIN) spawnSync('taskset', ['-a', '-c', '-p', `0-${CORES - 1}`, String(process.pid)]);
  const app = await startApp({ DATABASE_URL: `sqlite:${file}` }, false);
  try {
    progress('5. event-loop delay under the list load alone (unpinned)');
    await load(app, { ...list, duration: 2 });
    await loopDelay(app.child); // resets the histogram
    const alone = await load(app, list);
    const listOnlyDelay = await loopDelay(app.child);
    progress('5. login flood with the list running alongside (unpinned)');
    const [logins, during] = await Promise.all([
      load(app, { method: 'POST', path: '/login', body: JSON.stringify(USER), connections: 8 }),
      load(app, list),
    ]);
    const delay = await loopDelay(app.child);
    rows.push({ scenario: '5a. POST /login, 8 concurrent clients (unpinned)', runs: [logins] });
    rows.push({ scenario: '5b. the list alone (unpinned)', runs: [alone] });
    rows.push({
      scenario: '5c. the list during the login flood (unpinned)',
      runs: [during],
      goal: 'p99 ≤ 2× its p99 alone',
      note: `${(during.p99 / Math.max(alone.p99, 1)).toFixed(1)}×`,
    });
    extra.loginFlood = {
      loginsPerSecond: logins.rps,
      listP99Alone: alone.p99,
      listP99During: during.p99,
      eventLoopDelayMs: delay,
      eventLoopDelayListOnlyMs: listOnlyDelay,
    };
  } finally {
    await stop(app.child);
    if (PIN) spawnSync('taskset', ['-a', '-c', '-p', '0', String(process.pid)]);
  }
}

/**
 * What the metrics cost: the list on two servers over the same database, one without metrics and
 * one with METRICS_TOKEN, in turns (which goes first alternates by round), then one scrape.
 */
async function metricsCost(file: string, list: Target): Promise<void> {
  const off = await startApp({ DATABASE_URL: `sqlite:${file}`, METRICS_TOKEN: '' });
  const on = await startApp({ DATABASE_URL: `sqlite:${file}`, METRICS_TOKEN });
  try {
    for (const server of [off, on]) await load(server, { ...list, duration: 2 });
    const runs: Record<'off' | 'on', Run[]> = { off: [], on: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const which of round % 2 === 1 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        progress(`9. metrics ${which}: round ${round}/${ROUNDS}`);
        runs[which].push(await load(which === 'on' ? on : off, list));
      }
    }
    const ratio = median(runs.on.map((r, i) => r.rps / (runs.off[i]?.rps ?? Number.NaN)));
    const cpu = (xs: Run[]) => median(xs.map((r) => r.cpuUs ?? 0));
    const scrape = await fetch(`${on.base}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    const text = await scrape.text();
    rows.push({ scenario: '9a. metrics off: GET /bookapi/books', runs: runs.off });
    rows.push({
      scenario: '9b. metrics on (METRICS_TOKEN): GET /bookapi/books',
      runs: runs.on,
      note: `${ratio.toFixed(3)}× off by req/s (rounds in turns); CPU ${cpu(runs.on)} vs ${cpu(runs.off)} µs/req; a scrape ${scrape.status}, ${text.length} bytes`,
    });
    extra.metricsOnVsOff = {
      ratio: Number(ratio.toFixed(3)),
      cpuUsOn: cpu(runs.on),
      cpuUsOff: cpu(runs.off),
    };
  } finally {
    await stop(off.child);
    await stop(on.child);
  }
}

/**
 * Two workers against one, on the same database and URL, in turns with the
 * reference. Nothing is pinned here, the load generator included: two
 * workers need two cores, and the load generator competes with them.
 */
async function workers(file: string, list: Target): Promise<void> {
  progress('8. WORKERS=2 against one worker');
  if (PIN) spawnSync('taskset', ['-a', '-c', '-p', `0-${CORES - 1}`, String(process.pid)]);
  const target = { ...list, path: '/bookapi/books?limit=10' };
  const one = await startApp({ DATABASE_URL: `sqlite:${file}` }, false);
  const two = await startApp({ DATABASE_URL: `sqlite:${file}`, WORKERS: '2' }, false);
  const answers8: unknown[] = [];
  await record(two.base, target, answers8);
  const ref = await startReference(answers8, false);
  await load(one, { ...target, duration: 2 });
  await load(two, { ...target, duration: 2 });
  const row: Row = {
    scenario: '8. WORKERS=2: GET /bookapi/books?limit=10 (unpinned)',
    runs: [],
    reference: [],
  };
  const single: Run[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    progress(`8. WORKERS=2: round ${round}/${ROUNDS}`);
    row.reference?.push(await load(ref, target));
    single.push(await load(one, target));
    row.runs.push(await load(two, target));
  }
  const ratio = median(row.runs.map((r) => r.rps)) / median(single.map((r) => r.rps));
  row.goal = '≥ 1.6× one worker';
  // Two workers and the load generator share the machine's cores: what each request costs them all.
  const perRequest = (runs: Run[]) => median(runs.map((r) => (r.cpuUs ?? 0) + (r.clientCpuUs ?? 0)));
  row.note =
    `one worker ${median(single.map((r) => r.rps)).toLocaleString('en-US')} req/s → ${ratio.toFixed(2)}×; ` +
    `server + load generator CPU per request: ${perRequest(single)} µs (1 worker), ${perRequest(row.runs)} µs (2), ` +
    `so ${CORES} cores serve at most ~${Math.round((CORES * 1e6) / perRequest(row.runs)).toLocaleString('en-US')} req/s`;
  rows.push({ scenario: '8a. WORKERS=1, same URL (unpinned)', runs: single });
  rows.push(row);
  extra.workers2VsOne = Number(ratio.toFixed(3));
  for (const s of [one, two, ref]) await stop(s.child);
  if (PIN) spawnSync('taskset', ['-a', '-c', '-p', '0', String(process.pid)]);
}

function report(): void {
  process.stderr.write('\x1b[2K\r');
  // The raw results first, so nothing below can lose a run.
  fs.mkdirSync('bench/results', { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = path.join('bench/results', `${stamp}.json`);
  fs.writeFileSync(
    out,
    JSON.stringify({ date: new Date().toISOString(), node: process.version, rows, memory, extra }, null, 2),
  );
  const fmt = (n: number) => n.toLocaleString('en-US');
  const cpu = (runs: Run[] | undefined) => {
    const values = (runs ?? []).flatMap((r) => (r.cpuUs === undefined ? [] : [r.cpuUs]));
    return values.length ? String(median(values)) : '';
  };
  const lines = [
    `bookapi benchmark — ${new Date().toISOString()} — node ${process.version}, ${CORES} cores (${extra.pinned}), ${CONNECTIONS} connections, ${ROUNDS} rounds × ${DURATION}s`,
    '',
    '| scenario | req/s (median) | spread | p50 ms | p99 ms | CPU µs/req | reference req/s | reference CPU µs/req | × reference (rounds) | × by CPU | goal |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const row of rows) {
    if (row.runs.length === 0) {
      lines.push(`| ${row.scenario} | — | | | | | | | | | ${row.note ?? ''} |`);
      continue;
    }
    const rps = row.runs.map((r) => r.rps);
    const ref = row.reference?.map((r) => r.rps) ?? [];
    // The median of each round's ratio (app and reference ran back to back), and its range.
    const perRound = row.runs.flatMap((r, i) => {
      const base = row.reference?.[i]?.rps;
      return base ? [r.rps / base] : [];
    });
    const ratio = perRound.length
      ? `${median(perRound).toFixed(2)} (${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)})`
      : '';
    const appCpu = Number(cpu(row.runs));
    const refCpu = Number(cpu(row.reference));
    const byCpu = appCpu > 0 && refCpu > 0 ? (refCpu / appCpu).toFixed(2) : '';
    const bad = row.runs.reduce((n, r) => n + r.errors + r.non2xx, 0);
    lines.push(
      `| ${row.scenario} | ${fmt(median(rps))} | ${fmt(Math.min(...rps))}–${fmt(Math.max(...rps))} | ${median(row.runs.map((r) => r.p50))} | ${median(row.runs.map((r) => r.p99))} | ${cpu(row.runs)} | ${ref.length ? fmt(median(ref)) : ''} | ${cpu(row.reference)} | ${ratio} | ${byCpu} | ${[row.goal, row.note, bad ? `${bad} errors/non-2xx` : ''].filter(Boolean).join('; ')} |`,
    );
  }
  lines.push('');
  if (extra.deepVsFirst !== undefined)
    lines.push(`Deep keyset page / first page: ${extra.deepVsFirst}× (goal ≥ 0.9)`);
  const flood = extra.loginFlood as
    | { eventLoopDelayMs: { p99: number }; eventLoopDelayListOnlyMs: { p99: number } }
    | undefined;
  if (flood)
    lines.push(
      `Event-loop delay p99: ${flood.eventLoopDelayMs.p99} ms during the login flood + list load (goal ≤ 10 ms); ${flood.eventLoopDelayListOnlyMs.p99} ms under the list load alone`,
    );
  lines.push(
    `Memory (RSS): idle ${memory.idle} MB (goal ≤ 80)${memory.after100kBooks ? `, after seeding 100k books ${memory.after100kBooks} MB` : ''}, after the runs ${memory.afterRuns} MB`,
    `RSS after each run of scenarios 1-3 and the extra list rounds (MB): ${(extra.rssAfterEachRunMb as number[]).join(', ')}`,
  );
  const table = lines.join('\n');
  fs.writeFileSync(path.join('bench/results', `${stamp}.md`), `${table}\n`);
  console.log(table);
  console.log(`\nraw results: ${out} (the table: ${out.replace(/\.json$/, '.md')})`);
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
