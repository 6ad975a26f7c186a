import { createInterface } from 'node:readline/promises';
import password from '@inquirer/password';
import { UsageError } from './run.js';

/**
 * A password for a command, from (in order) BOOKAPI_ADMIN_PASSWORD, a pipe on
 * stdin (its first line), or a prompt on the terminal that echoes nothing —
 * typed twice when it sets a new password, so a typo cannot lock anyone out.
 */
export async function readPassword(prompt: string, options: { confirm: boolean }): Promise<string> {
  const fromEnv = process.env.BOOKAPI_ADMIN_PASSWORD;
  if (fromEnv) return fromEnv;
  if (process.stdin.isTTY !== true) {
    const rl = createInterface({ input: process.stdin, terminal: false });
    let first: string | undefined;
    for await (const line of rl) {
      first = line;
      break;
    }
    rl.close();
    if (!first) {
      throw new UsageError(
        'no password given: stdin is not a terminal, so set BOOKAPI_ADMIN_PASSWORD or pipe the password (one non-empty line) on stdin',
      );
    }
    return first;
  }
  const typed = await password({ message: prompt });
  if (options.confirm && (await password({ message: 'Type it again:' })) !== typed) {
    throw new UsageError('the two passwords differ; nothing was changed');
  }
  return typed;
}
