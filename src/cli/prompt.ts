import { createInterface } from 'node:readline/promises';
import { UsageError } from './run.js';

/** True when a person can answer questions on this terminal. */
export const interactive = (): boolean => process.stdin.isTTY === true && process.stdout.isTTY === true;

/** Asks a yes/no question on the terminal; without one, says which flag answers it instead. */
export async function confirm(question: string, flag: string): Promise<boolean> {
  if (!interactive()) {
    throw new UsageError(
      `${question.replace(/\?$/, '')}: stdin is not a terminal, so pass ${flag} to confirm`,
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
