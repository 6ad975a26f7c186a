import type { FastifyServerOptions } from 'fastify';
import type { LogLevel } from './config.js';

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

export function loggerOptions(level: LogLevel): FastifyServerOptions['logger'] {
  return { level, redact: { paths: REDACT, censor: '[redacted]' } };
}
