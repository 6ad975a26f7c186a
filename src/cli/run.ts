import { CommanderError } from 'commander';
import { ConfigError } from '../config.js';

/** Exit codes of every bookapi command: documented in the README's Operating section. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** A mistake in how a command was called (bad flag value, missing argument): exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Prints an error as one line — no stack trace for a mistake the operator can
 * fix — and exits with 2 for usage and configuration errors, 1 otherwise.
 */
export function fail(error: unknown): never {
  if (error instanceof CommanderError) {
    // Commander has printed its message (and the usage) already.
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  const usage = error instanceof ConfigError || error instanceof UsageError;
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`bookapi: ${usage ? '' : 'error: '}${message}\n`);
  process.exit(usage ? EXIT.usage : EXIT.failure);
}
