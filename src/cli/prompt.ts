import { createInterface } from 'node:readline/promises';
import { UsageError } from './run.js';

/** True when a person can answer questions on this terminal. */
export const interactive = (): boolean => process.stdin.isTTY === true && process.stdout.isTTY === true;

/**
 * States what is about to happen and asks a yes/no question on the terminal;
 * without one, says which flag answers it instead.
 */
export async function confirm(statement: string, question: string, flag: string): Promise<boolean> {
  if (!interactive()) {
    throw new UsageError(`${statement} There is no terminal to ask on: pass ${flag} to confirm.`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${statement} ${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
