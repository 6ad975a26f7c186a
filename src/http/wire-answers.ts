import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { BASELINE_HEADERS, endWith, rawAnswer } from './errors.js';

/**
 * Requests Node answers by itself, before any route or hook: by default an
 * empty 417 for an `Expect` other than 100-continue, an empty 400 for
 * HTTP/1.1 without `Host`, and nothing at all (the socket destroyed) for
 * CONNECT. Here they get the API's JSON shape and headers like every other
 * error. (The Host check runs in the first hook, `lacksHost`: Node's own is
 * turned off in connectionOptions.)
 */
export function installWireAnswers(app: FastifyInstance): void {
  app.server.on('checkExpectation', (_req, res) => {
    const body = JSON.stringify({
      message: 'Only "Expect: 100-continue" is supported',
      code: 'EXPECTATION_FAILED',
    });
    // The body announced is never read: the connection closes with the answer.
    res.writeHead(417, {
      ...BASELINE_HEADERS,
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    });
    res.end(body);
  });
  app.server.on('connect', (_req, socket) => {
    socket.on('error', () => {});
    endWith(
      socket as Socket,
      rawAnswer(405, 'METHOD_NOT_ALLOWED', 'CONNECT is not supported: this server is not a proxy', {
        allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
      }),
    );
  });
}

/** HTTP/1.1 requires a Host header (RFC 9112 §3.2); HTTP/1.0 may leave it out. */
export function lacksHost(raw: IncomingMessage): boolean {
  return raw.headers.host === undefined && raw.httpVersionMajor === 1 && raw.httpVersionMinor >= 1;
}
