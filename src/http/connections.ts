import type { FastifyInstance } from 'fastify';
import type { ConnectionLimits } from '../config.js';

/**
 * Fastify's server options for the client timeouts. Node enforces the
 * header and request deadlines only when it sweeps its connections, every
 * 30 s by default, so a 10 s deadline could run to 40 s; sweeping every
 * second (or a quarter of the shortest deadline) keeps them close to what
 * is configured. A sweep walks the open requests in C++: cheap.
 */
export function connectionOptions(limits: ConnectionLimits) {
  const headersTimeout = limits.headersTimeout * 1000;
  const requestTimeout = limits.requestTimeout * 1000;
  return {
    requestTimeout,
    // A socket on which nothing moves either way for that long is closed: a client that sends a
    // request and never reads the answer would otherwise hold its connection (and the answer's
    // memory) for ever. Idle keep-alive sockets are closed sooner, by keepAliveTimeout; two sweeps
    // later than requestTimeout, so that a stalled request still gets its 408 first.
    connectionTimeout: requestTimeout + 2000,
    keepAliveTimeout: limits.keepAliveTimeout * 1000,
    http: {
      headersTimeout,
      // Also here: Node checks headersTimeout ≤ requestTimeout when it creates the server.
      requestTimeout,
      connectionsCheckingInterval: Math.min(1000, Math.ceil(headersTimeout / 4)),
      // Node's own check answers an empty 400; the first hook answers it in JSON (wire-answers.ts).
      requireHostHeader: false,
    },
  };
}

/** How often, at most, refused connections are reported. */
const DROP_REPORT_MS = 10_000;

/**
 * Beyond maxConnections Node closes each new connection as soon as it is
 * accepted, without an answer: open sockets, and the memory and file
 * descriptors they hold, stay bounded however many clients arrive. The log
 * says so, at most once every 10 s, with how many were turned away.
 */
export function limitConnections(app: FastifyInstance, limits: ConnectionLimits): void {
  if (limits.maxConnections === 0) return;
  app.server.maxConnections = limits.maxConnections;
  let dropped = 0;
  let quietUntil = 0;
  app.server.on('drop', () => {
    dropped++;
    const now = Date.now();
    if (now < quietUntil) return;
    quietUntil = now + DROP_REPORT_MS;
    app.log.warn(
      { dropped, maxConnections: limits.maxConnections },
      'connection limit reached: refusing new connections',
    );
    dropped = 0;
  });
}
