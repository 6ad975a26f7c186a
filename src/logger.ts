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

/** Query parameters whose values are kept out of the log, by name. */
const SECRET_NAME = /token|secret|key|pass|pwd|^pw$|auth|bearer|refresh|code|sig|session|cookie|jwt/i;
/** Personal access tokens and JWTs, wherever they stand (the path too, a bare `?token`). */
const SECRET_VALUE = /bkp_[\w-]+|eyJ[\w-]*\.[\w-]*(?:\.[\w-]*)?/g;

function decoded(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text; // Malformed encoding: judged as sent.
  }
}

/**
 * The request's URL with credentials replaced. The API never reads a token
 * from the URL, but a script that puts one there by mistake must not leave
 * it in every log reader's hands: values of credential-like parameters
 * (`&` or `;` separated, names judged decoded), and anything shaped like a
 * personal access token or a JWT, encoded or not.
 */
export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query =
    q === -1
      ? ''
      : `?${url
          .slice(q + 1)
          .split(/([&;])/)
          .map((part) => {
            if (part === '&' || part === ';') return part;
            const eq = part.indexOf('=');
            const name = eq === -1 ? '' : part.slice(0, eq);
            const value = eq === -1 ? part : part.slice(eq + 1);
            if (eq !== -1 && SECRET_NAME.test(decoded(name))) return `${name}=[redacted]`;
            if (decoded(value).search(SECRET_VALUE) !== -1)
              return eq === -1 ? '[redacted]' : `${name}=[redacted]`;
            return part;
          })
          .join('')}`;
  return `${path}${query}`.replace(SECRET_VALUE, '[redacted]');
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
