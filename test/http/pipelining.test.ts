// Requests pipelined on one keep-alive connection take effect in the order they were sent.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { addBook, build, loginPair, ORIGINAL_USER } from '../helpers.js';
import { connect, listen, type RawAnswer } from './wire.js';

function request(method: string, url: string, body?: object, headers: Record<string, string> = {}): string {
  const payload = body === undefined ? '' : JSON.stringify(body);
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const framing =
    body === undefined
      ? ''
      : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n`;
  return `${method} ${url} HTTP/1.1\r\nHost: localhost\r\n${framing}${extra}\r\n${payload}`;
}

/** Sends the requests in one write on one connection (the last closes it) and parses every answer. */
async function pipeline(port: number, requests: string[], close = true): Promise<RawAnswer[]> {
  const last = requests.length - 1;
  const wire = requests
    .map((r, i) => (close && i === last ? r.replace('\r\n', '\r\nConnection: close\r\n') : r))
    .join('');
  const conn = await connect(port);
  conn.socket.write(wire);
  await conn.closed;
  const answers: RawAnswer[] = [];
  let rest = Buffer.from(conn.received(), 'latin1');
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    assert.ok(end > 0, `an incomplete answer: ${rest.toString()}`);
    const head = rest.subarray(0, end).toString().split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    answers.push({
      status: Number(head[0]?.split(' ')[1]),
      headers,
      body: rest.subarray(end + 4, end + 4 + length).toString(),
    });
    rest = rest.subarray(end + 4 + length);
  }
  return answers;
}

test('pipelined: a login right behind its signup succeeds', async (t) => {
  const { app } = await build(t);
  const port = await listen(app);
  for (let i = 0; i < 5; i++) {
    const user = { username: `piped${i}`, password: ORIGINAL_USER.password };
    const answers = await pipeline(port, [request('POST', '/signup', user), request('POST', '/login', user)]);
    assert.deepEqual(
      answers.map((a) => a.status),
      [201, 201],
      answers.map((a) => a.body).join(' | '),
    );
  }
});

test('pipelined: a GET behind a DELETE no longer finds the book, and the last of many PATCHes stays', async (t) => {
  const { app } = await build(t);
  const port = await listen(app);
  const pair = await loginPair(app);
  for (let i = 0; i < 5; i++) {
    const book = await addBook(app, pair.headers, { title: `Piped ${i}`, author: 'Someone' });
    const url = `/bookapi/books/${book.id}`;
    // Read once first, so a stale cached page would show.
    await pipeline(port, [request('GET', url, undefined, pair.headers)]);
    const patches = Array.from({ length: 6 }, (_, v) =>
      request('PATCH', url, { title: `Piped ${i} v${v}` }, pair.headers),
    );
    const answers = await pipeline(port, [
      ...patches,
      request('GET', url, undefined, pair.headers),
      request('DELETE', url, undefined, pair.headers),
      request('GET', url, undefined, pair.headers),
    ]);
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200, 200, 200, 200, 200, 404],
    );
    assert.equal(JSON.parse(answers[6]?.body ?? '{}').title, `Piped ${i} v5`, 'the GET sees the last PATCH');
  }
});

test('pipelined: a request behind an answer that closes the connection is not run', async (t) => {
  const { app, db } = await build(t);
  const port = await listen(app);
  const pair = await loginPair(app);
  const json = { 'content-type': 'application/json' };
  const broken = `POST /bookapi/books HTTP/1.1\r\nHost: x\r\nauthorization: ${pair.headers.authorization}\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{"ti,`;
  for (const [i, first] of [
    broken,
    request(
      'POST',
      '/bookapi/books',
      { title: 'Odd', author: 'Expect' },
      { ...pair.headers, expect: 'teapot' },
    ),
  ].entries()) {
    const title = `Never run ${i}`;
    const answers = await pipeline(
      port,
      [first, request('POST', '/bookapi/books', { title, author: 'Nobody' }, { ...pair.headers, ...json })],
      false,
    );
    assert.equal(answers.length, 1, JSON.stringify(answers));
    assert.equal(answers[0]?.headers.connection, 'close');
    const stored = await db.selectFrom('books').select('id').where('title', '=', title).execute();
    assert.equal(stored.length, 0, 'the request behind it took no effect');
  }
});

test('pipelined: a malformed request or CONNECT behind good ones is answered after them, not instead', async (t) => {
  const { app, db } = await build(t);
  const port = await listen(app);
  const pair = await loginPair(app);
  for (const tail of [
    'GARBAGE\r\n\r\n',
    'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
  ]) {
    const title = `Kept ${tail.slice(0, 7)}`;
    const answers = await pipeline(
      port,
      [request('POST', '/bookapi/books', { title, author: 'Someone' }, pair.headers), tail],
      false,
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      [201, tail.startsWith('CONNECT') ? 405 : 400],
    );
    assert.equal(JSON.parse(answers[0]?.body ?? '{}').title, title, 'the first answer is the book’s');
    assert.equal((await db.selectFrom('books').select('id').where('title', '=', title).execute()).length, 1);
  }
});

test('pipelined: forty requests deep, each waits only for the one ahead; all answered in order', async (t) => {
  const { app } = await build(t);
  const port = await listen(app);
  const pair = await loginPair(app);
  const book = await addBook(app, pair.headers, { title: 'Deep', author: 'Pipeline' });
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  // The most listeners any answer had: one waiter per answer in a chain, not every waiter on one.
  const seen: ServerResponse[] = [];
  const onRequest = (_req: unknown, res: ServerResponse) => seen.push(res);
  app.server.on('request', onRequest);
  let most = 0;
  const sampler = setInterval(() => {
    for (const res of seen) most = Math.max(most, res.listenerCount('finish'));
  }, 1);
  t.after(() => clearInterval(sampler));
  const url = `/bookapi/books/${book.id}`;
  const requests = Array.from({ length: 40 }, (_, v) =>
    v % 2 === 0
      ? request('PATCH', url, { title: `Deep v${v}` }, pair.headers)
      : request('GET', url, undefined, pair.headers),
  );
  // A login first: its password hash takes a while, and everything behind it waits.
  const answers = await pipeline(port, [request('POST', '/login', ORIGINAL_USER), ...requests]);
  assert.equal(answers.length, 41);
  assert.equal(answers.shift()?.status, 201);
  answers.forEach((a, v) => {
    assert.equal(a.status, 200, `request ${v}`);
    assert.equal(
      JSON.parse(a.body).title,
      `Deep v${v % 2 === 0 ? v : v - 1}`,
      `request ${v} saw the PATCH before it`,
    );
  });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(warnings, []);
  assert.ok(most > 0 && most <= 4, `at most ${most} 'finish' listeners on one answer`);
});
