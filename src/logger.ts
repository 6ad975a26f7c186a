import type { FastifyRequest, FastifyServerOptions } from 'fastify';
import pino from 'pino';
import type { LogFormat, LogLevel } from './config.js';

/** Paths pino replaces with "[redacted]": credentials must never reach a log. */
export const REDACT = [
  'req.headers.authorization',
  'req.headers["x-access-token"]',
  'req.headers.cookie',
  '*.password',
  '*.new_password',
  '*.current_password',
  '*.token',
  '*.refresh_token',
];

/** Query parameters whose values are kept out of the log, by name or by look. */
const SECRET_NAME = /token|secret|key|pass|auth|refresh|code|sig|session|cookie/i;
const SECRET_VALUE = /^(bkp_|eyJ)/;

/**
 * The request's URL with the values of credential-like query parameters
 * replaced. The API never reads a token from the query string, but a script
 * that puts one there by mistake must not leave it in every log reader's hands.
 */
export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const parts = url
    .slice(q + 1)
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq === -1) return part;
      const name = part.slice(0, eq);
      let value = part.slice(eq + 1);
      try {
        value = decodeURIComponent(value.replace(/\+/g, ' '));
      } catch {
        // Malformed encoding: judged as sent.
      }
      return SECRET_NAME.test(name) || SECRET_VALUE.test(value.trim()) ? `${name}=[redacted]` : part;
    });
  return `${url.slice(0, q)}?${parts.join('&')}`;
}

/**
 * JSON lines for log collectors; readable, coloured lines for a person at a
 * terminal (`auto` decides by whether stdout is one).
 */
export const isPretty = (format: LogFormat): boolean =>
  format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);

export function loggerOptions(level: LogLevel, format: LogFormat = 'json') {
  const pretty = isPretty(format);
  return {
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: {
      // Fastify's own request serializer, with the query's credentials redacted.
      req: (req: FastifyRequest) => ({
        method: req.method,
        url: loggableUrl(req.url),
        host: req.host,
        remoteAddress: req.ip,
        remotePort: req.socket?.remotePort,
      }),
    },
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,reqId', singleLine: false },
          },
        }
      : {}),
  } satisfies FastifyServerOptions['logger'];
}

/** A logger for processes that have no Fastify app (the cluster primary, the CLI). */
export function createLogger(level: LogLevel, format: LogFormat = 'json'): pino.Logger {
  return pino(loggerOptions(level, format));
}
