import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isForeignKeyViolation, isUnstorableText } from '../db/errors.js';
import { ApiError, type ErrorCode, errors } from '../errors.js';
import { whenAnswered } from './pipelining.js';

const INVALID_JSON = 'Malformed JSON body (or a forbidden __proto__ / constructor.prototype key)';

/** Fastify's own 4xx errors, renamed to the project's codes and plain messages. */
const FASTIFY_ERRORS: Record<string, { code: ErrorCode; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: 'BODY_TOO_LARGE',
    message: 'Request body is too large (limit: 100 KB)',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'Unsupported Content-Type: send application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'BAD_REQUEST',
    message: 'Content-Length does not match the body',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'INVALID_JSON',
    message: 'Body is empty but Content-Type is application/json',
  },
  // Fastify reports JSON syntax errors and the refused __proto__ / constructor.prototype keys alike.
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON', message: INVALID_JSON },
  FST_ERR_CTP_MALFORMED_JSON: { code: 'INVALID_JSON', message: INVALID_JSON },
};

const STATUS_CODES: Record<number, ErrorCode> = {
  403: 'FORBIDDEN',
  404: 'ROUTE_NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
};

/** pg reports a dropped connection, and its own query timeout, without a code; these are its messages. */
function isConnectionLoss(error: { message?: string }): boolean {
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect|Query read timeout/i.test(
    error.message ?? '',
  );
}

/** Database faults that mean "try again shortly", not "bug". */
const UNAVAILABLE = new Set([
  'SQLITE_BUSY',
  // A deferred transaction that read before another connection's write: retrying starts afresh.
  'SQLITE_BUSY_SNAPSHOT',
  'SQLITE_BUSY_RECOVERY',
  'SQLITE_BUSY_TIMEOUT',
  'SQLITE_LOCKED',
  'SQLITE_LOCKED_SHAREDCACHE',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  '57014', // statement_timeout (DB_QUERY_TIMEOUT)
  '57P01',
  '57P03',
  '53300',
]);

/**
 * The one place that turns errors into answers: ApiError as thrown, Fastify's
 * 4xx mapped to our codes, anything else a generic 500 that is logged with
 * its stack and never shows it.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | ApiError, req, reply) => {
    const answer = toApiError(error, req);
    if (answer.statusCode >= 500 && error instanceof ApiError) {
      // Deliberate (a probe saying "not ready", a store known to be down): its cause was logged where
      // it was found, once; a stack trace per probe would say nothing more.
      req.log.warn({ code: answer.code, status: answer.statusCode }, answer.message);
    } else if (answer.statusCode >= 500) {
      req.log.error({ err: error }, 'request failed');
    } else {
      req.log.info({ code: answer.code, status: answer.statusCode }, answer.message);
    }
    return sendError(reply, answer);
  });

  app.setNotFoundHandler((req, reply) =>
    sendError(
      reply,
      new ApiError(404, 'ROUTE_NOT_FOUND', `Route ${req.method} ${req.url.split('?')[0]} not found`),
    ),
  );
}

export function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply
    .code(error.statusCode)
    .headers(error.headers)
    .type('application/json; charset=utf-8')
    .send({ message: error.message, code: error.code });
}

function toApiError(error: FastifyError | ApiError, req: FastifyRequest): ApiError {
  if (error instanceof ApiError) return error;
  const custom = req.routeOptions.config?.invalidInput;
  if ('validation' in error && error.validation) {
    return custom ? custom() : new ApiError(400, 'VALIDATION_FAILED', error.message);
  }
  // An empty body is a body without its fields: the route's own answer applies.
  if (custom && error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return custom();
  const known = error.code ? FASTIFY_ERRORS[error.code] : undefined;
  const status = error.statusCode ?? 500;
  if (known) return new ApiError(status, known.code, known.message ?? error.message);
  if (error instanceof SyntaxError && status === 400)
    return new ApiError(400, 'INVALID_JSON', 'Malformed JSON body');
  if (status >= 400 && status < 500) {
    return new ApiError(status, STATUS_CODES[status] ?? 'BAD_REQUEST', error.message);
  }
  if (error.code && UNAVAILABLE.has(error.code)) return errors.unavailable();
  // A safety net behind the schemas: a NUL that reached PostgreSQL's text is the client's input.
  if (isUnstorableText(error))
    return custom ? custom() : errors.invalidInput('Text with a character that cannot be stored');
  // What a request pointed at was deleted while it ran (a login racing an account deletion, say).
  if (isForeignKeyViolation(error)) return errors.conflict();
  if (isConnectionLoss(error)) return errors.unavailable();
  return new ApiError(500, 'INTERNAL_ERROR', 'Internal server error');
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (oversized
 * headers, garbage on the wire), answered in the same JSON shape.
 */
export function clientErrorHandler(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
  const [status, code, message]: [number, ErrorCode, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'HEADERS_TOO_LARGE', 'Request headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'REQUEST_TIMEOUT', 'Request timed out']
        : [400, 'BAD_REQUEST', 'Malformed HTTP request'];
  endWith(socket, rawAnswer(status, code, message));
}

const ENDING = Symbol('bookapi.ending');

/**
 * Ends the connection with this answer once the answers to the requests
 * ahead of it (pipelined) are written: they come first, and are theirs. One
 * such answer per connection, whatever else goes wrong meanwhile.
 */
export function endWith(socket: Socket & { [ENDING]?: true }, answer: string): void {
  if (socket[ENDING]) return;
  socket[ENDING] = true;
  whenAnswered(socket, () => {
    if (!socket.destroyed && socket.writable) socket.end(answer);
  });
}

/**
 * A whole answer in the API's JSON shape, with the baseline headers and
 * `Connection: close`, for the few cases where Node hands over a bare socket.
 */
export function rawAnswer(
  status: number,
  code: ErrorCode,
  message: string,
  extra: Readonly<Record<string, string>> = {},
): string {
  const body = JSON.stringify({ message, code });
  const headers = Object.entries({
    ...BASELINE_HEADERS,
    ...extra,
    'content-type': 'application/json; charset=utf-8',
  })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return (
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n${headers}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/**
 * The security headers for answers written before any hook can run (bad URL
 * encoding, oversized headers): what helmet and the no-store hook would add.
 */
export const BASELINE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-resource-policy': 'same-origin',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
};

/** Fastify's errors raised before routing (a malformed URL): our shape and headers. */
export function frameworkErrors(error: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 400;
  const message = error.code === 'FST_ERR_BAD_URL' ? 'Malformed URL' : error.message;
  void sendError(reply.headers(BASELINE_HEADERS), new ApiError(status, 'BAD_REQUEST', message));
}
