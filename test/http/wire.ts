// Raw HTTP/1.1 over a TCP socket, for tests about exact bytes on the wire and about timing.
import net from 'node:net';
import type { FastifyInstance } from 'fastify';

/** Listens on a free loopback port; closed with the test's app. */
export async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
  return address.port;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses the first response in `raw` (Content-Length bodies only, as the API sends). */
export function parseAnswer(raw: string): RawAnswer {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no complete response in ${JSON.stringify(raw)}`);
  const [statusLine = '', ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = Buffer.from(raw.slice(end + 4))
    .subarray(0, length)
    .toString();
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

export interface Connection {
  socket: net.Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves when the server closes (or resets) the connection, with the ms since connect. */
  closed: Promise<number>;
}

export function connect(port: number): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const start = Date.now();
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    const closed = new Promise<number>((done) => socket.on('close', () => done(Date.now() - start)));
    socket.on('error', () => {}); // a reset counts as closed
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

/** Sends one request (with `Connection: close`) and returns the answer once the server closes. */
export async function rawRequest(port: number, request: string | Buffer): Promise<RawAnswer> {
  const conn = await connect(port);
  conn.socket.write(request);
  await conn.closed;
  return parseAnswer(Buffer.from(conn.received(), 'latin1').toString('utf8'));
}

/** How a bodyless request may present its (absent) body alongside `Content-Type: application/json`. */
export const EMPTY_BODIES = {
  'Content-Length: 0': { headers: 'Content-Length: 0\r\n', body: '' },
  'no Content-Length': { headers: '', body: '' },
  'chunked, no chunks': { headers: 'Transfer-Encoding: chunked\r\n', body: '0\r\n\r\n' },
} as const;

export type EmptyBody = keyof typeof EMPTY_BODIES;

/** A request with `Content-Type: application/json` and an empty body, in one of the ways above. */
export function emptyJsonRequest(
  method: string,
  path: string,
  variant: EmptyBody,
  headers: Record<string, string> = {},
): string {
  const { headers: framing, body } = EMPTY_BODIES[variant];
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return (
    `${method} ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n` +
    `Content-Type: application/json\r\n${framing}${extra}\r\n${body}`
  );
}
