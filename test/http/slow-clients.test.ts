// Slow clients (slowloris and friends) over real sockets, with timeouts shortened to seconds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config.js';
import { build, ORIGINAL_USER } from '../helpers.js';
import { startServer, stopServer } from '../process.js';
import { type Connection, connect, listen, parseAnswer } from './wire.js';

const SHORT = { HEADERS_TIMEOUT: '1', REQUEST_TIMEOUT: '2', KEEP_ALIVE_TIMEOUT: '1' };

async function serve(t: Parameters<typeof build>[0], env: Record<string, string> = SHORT) {
  // Registered before build()'s own cleanup so the sockets go first: closing the app waits for them.
  const open: Connection[] = [];
  t.after(() => {
    for (const c of open) c.socket.destroy();
  });
  const ctx = await build(t, env);
  const port = await listen(ctx.app);
  return {
    ...ctx,
    port,
    async connect() {
      const c = await connect(port);
      open.push(c);
      return c;
    },
  };
}

/** The ms from connect to close, or a failure if the server keeps the socket open past `limitMs`. */
async function closedWithin(conn: Connection, limitMs: number, what: string): Promise<number> {
  const timer = sleep(limitMs).then(() => -1);
  const ms = await Promise.race([conn.closed, timer]);
  assert.ok(ms >= 0, `${what}: still open after ${limitMs} ms`);
  return ms;
}

/** Writes `parts` one by one, `everyMs` apart, until they run out or the server closes the socket. */
function trickle(conn: Connection, parts: string[], everyMs: number): void {
  const timer = setInterval(() => {
    const part = parts.shift();
    if (part === undefined || conn.socket.destroyed) clearInterval(timer);
    else conn.socket.write(part);
  }, everyMs);
  conn.socket.on('close', () => clearInterval(timer));
}

const timedOut = (conn: Connection, what: string) => {
  const answer = parseAnswer(conn.received());
  assert.equal(answer.status, 408, what);
  assert.deepEqual(JSON.parse(answer.body), { message: 'Request timed out', code: 'REQUEST_TIMEOUT' }, what);
  assert.equal(answer.headers.connection, 'close', what);
};

test('a client that never finishes its headers is cut off after HEADERS_TIMEOUT (1 s here)', async (t) => {
  const server = await serve(t);
  const silent = await server.connect();
  const partial = await server.connect();
  partial.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n');
  // A header line every 200 ms: never idle, never done. The deadline is for the whole header block.
  const trickling = await server.connect();
  trickle(trickling, ['GET /health HTTP/1.1\r\n', ...Array(40).fill('X-Slow: yes\r\n')], 200);

  for (const [conn, what] of [
    [silent, 'nothing sent'],
    [partial, 'partial headers'],
    [trickling, 'headers trickled'],
  ] as const) {
    const ms = await closedWithin(conn, 3000, what);
    assert.ok(ms >= 900, `${what}: closed after only ${ms} ms`);
    timedOut(conn, what);
  }
});

test('a body that stalls or trickles is cut off after REQUEST_TIMEOUT (2 s here), and nothing is stored', async (t) => {
  const server = await serve(t);
  const payload = JSON.stringify(ORIGINAL_USER);
  const head = (length: number) =>
    `POST /signup HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
  const stalled = await server.connect();
  stalled.socket.write(head(payload.length) + payload.slice(0, 10));
  const trickling = await server.connect();
  trickling.socket.write(head(payload.length));
  trickle(trickling, [...payload], 200);

  for (const [conn, what] of [
    [stalled, 'stalled body'],
    [trickling, 'body trickled'],
  ] as const) {
    const ms = await closedWithin(conn, 4000, what);
    assert.ok(ms >= 1900, `${what}: closed after only ${ms} ms`);
    timedOut(conn, what);
  }
  assert.deepEqual(await server.db.selectFrom('users').select('username').execute(), []);
});

test('slow but steady clients within the limits are served', async (t) => {
  const server = await serve(t, { HEADERS_TIMEOUT: '2', REQUEST_TIMEOUT: '4', KEEP_ALIVE_TIMEOUT: '1' });
  const payload = JSON.stringify(ORIGINAL_USER);
  const conn = await server.connect();
  // Headers over ~0.6 s, the body over ~0.6 s more.
  trickle(
    conn,
    [
      'POST /signup HTTP/1.1\r\n',
      'Host: localhost\r\nConnection: close\r\n',
      'Content-Type: application/json\r\n',
      `Content-Length: ${payload.length}\r\n\r\n`,
      payload.slice(0, 10),
      payload.slice(10, 20),
      payload.slice(20),
    ],
    200,
  );
  await closedWithin(conn, 3000, 'a steady client');
  assert.equal(parseAnswer(conn.received()).status, 201, conn.received());
});

test('an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT (1 s here), and reusable before', async (t) => {
  const server = await serve(t);
  const conn = await server.connect();
  const request = 'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n';
  conn.socket.write(request);
  await sleep(500);
  conn.socket.write(request);
  await sleep(300);
  const answered = Date.now();
  const answers = conn.received().split('HTTP/1.1 ').length - 1;
  assert.equal(answers, 2, 'both requests were answered on one connection');
  assert.match(parseAnswer(conn.received()).headers['keep-alive'] ?? '', /timeout=1\b/);
  await closedWithin(conn, 4000, 'idle keep-alive');
  // Node waits one second past the advertised timeout, so a client reusing it at the last moment is safe.
  const idle = Date.now() - answered;
  assert.ok(idle >= 600 && idle <= 2600, `closed ${idle} ms after the last answer`);
});

test('connections beyond MAX_CONNECTIONS are closed at once; room frees up when one ends', async (t) => {
  const server = await serve(t, { ...SHORT, KEEP_ALIVE_TIMEOUT: '30', MAX_CONNECTIONS: '3' });
  const request = 'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n';
  const kept: Connection[] = [];
  for (let i = 0; i < 3; i++) {
    const conn = await server.connect();
    conn.socket.write(request);
    while (!conn.received().includes('"status":"ok"')) await sleep(10);
    kept.push(conn);
  }
  const refused = await server.connect();
  refused.socket.write(request);
  await closedWithin(refused, 1000, 'the fourth connection');
  assert.equal(refused.received(), '', 'no answer over the cap');

  kept[0]?.socket.destroy();
  while (
    (await new Promise<number>((r, j) => server.app.server.getConnections((e, n) => (e ? j(e) : r(n))))) > 2
  )
    await sleep(10);
  const next = await server.connect();
  next.socket.write(request);
  while (!next.received().includes('"status":"ok"')) await sleep(10);
});

test('the defaults: headers in 10 s, the whole request in 30 s, keep-alive 5 s, 10000 connections', async (t) => {
  const { app } = await build(t);
  assert.equal(app.server.headersTimeout, 10_000);
  assert.equal(app.server.requestTimeout, 30_000);
  assert.equal(app.server.keepAliveTimeout, 5_000);
  assert.equal(app.server.maxConnections, 10_000);
  // Node only looks for expired requests this often; its default of 30 s would let a 10 s timeout run to 40 s.
  const interval = (app.server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval;
  assert.ok(interval !== undefined && interval <= 1000, `checked every ${interval} ms`);
  const unlimited = await build(t, { MAX_CONNECTIONS: '0' });
  assert.ok(!(unlimited.app.server.maxConnections > 0), 'MAX_CONNECTIONS=0: no limit');
});

test('bad timeout and connection settings stop the server with a clear message', () => {
  for (const [env, message] of [
    [{ HEADERS_TIMEOUT: '0' }, /HEADERS_TIMEOUT must be/],
    [{ HEADERS_TIMEOUT: 'soon' }, /HEADERS_TIMEOUT must be/],
    [{ REQUEST_TIMEOUT: '-1' }, /REQUEST_TIMEOUT must be/],
    [{ KEEP_ALIVE_TIMEOUT: '0' }, /KEEP_ALIVE_TIMEOUT must be/],
    [{ KEEP_ALIVE_TIMEOUT: '30d' }, /KEEP_ALIVE_TIMEOUT must be at most 1 hour/],
    [
      { HEADERS_TIMEOUT: '20s', REQUEST_TIMEOUT: '10s' },
      /REQUEST_TIMEOUT .* cannot be shorter than HEADERS_TIMEOUT/,
    ],
    [{ MAX_CONNECTIONS: 'lots' }, /MAX_CONNECTIONS must be/],
    [{ MAX_CONNECTIONS: '-5' }, /MAX_CONNECTIONS must be/],
  ] as const) {
    assert.throws(() => loadConfig(env), message, JSON.stringify(env));
  }
  const config = loadConfig({
    HEADERS_TIMEOUT: '5s',
    REQUEST_TIMEOUT: '1m',
    KEEP_ALIVE_TIMEOUT: '65',
    MAX_CONNECTIONS: '0',
  });
  assert.deepEqual(
    { ...config.connections },
    { headersTimeout: 5, requestTimeout: 60, keepAliveTimeout: 65, maxConnections: 0 },
  );
});

test('the server process applies the settings: slow headers cut off, connections over the cap refused and logged', async (t) => {
  const server = startServer({
    DATABASE_URL: 'sqlite::memory:',
    HEADERS_TIMEOUT: '1',
    MAX_CONNECTIONS: '2',
  });
  t.after(() => stopServer(server));
  const { port } = new URL(await server.ready());
  const slow = [await connect(Number(port)), await connect(Number(port))];
  for (const conn of slow) conn.socket.write('GET /health HTTP/1.1\r\n');
  const refused = await connect(Number(port));
  await closedWithin(refused, 1000, 'over the cap');
  assert.equal(refused.received(), '');
  for (const conn of slow) {
    await closedWithin(conn, 3000, 'slow headers');
    timedOut(conn, 'slow headers');
  }
  assert.match(server.output(), /connection limit reached/);
});

test('a client that asks for large answers and never reads them is cut off once nothing has moved for REQUEST_TIMEOUT + 2 s', async (t) => {
  const server = await serve(t);
  // Seen from the server: a paused client does not notice the close until it reads again.
  const serverSide = new Promise<number>((resolve) =>
    server.app.server.once('connection', (s: import('node:net').Socket) =>
      s.once('close', () => resolve(Date.now())),
    ),
  );
  const { socket } = await server.connect();
  socket.pause(); // never read: the answers fill the socket buffers and then nothing moves
  const started = Date.now();
  for (let i = 0; i < 20; i++)
    socket.write('GET /docs/static/swagger-ui-bundle.js HTTP/1.1\r\nHost: localhost\r\n\r\n');
  const ms = await Promise.race([serverSide.then((at) => at - started), sleep(15_000).then(() => -1)]);
  assert.ok(ms >= 0, 'the server still holds the connection after 15 s');
  assert.ok(ms >= 3500, `closed after ${ms} ms: too early for a 4 s limit`);
});
