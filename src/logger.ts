import type { FastifyServerOptions } from 'fastify';
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
