import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createAdmin } from '../admin/initial-admin.js';
import { isCommonPassword } from '../auth/common-passwords.js';
import { PASSWORD, USERNAME } from '../auth/schemas.js';
import { systemClock } from '../clock.js';
import { ConfigError, loadConfig } from '../config.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';

const USAGE =
  'usage: npm run create-admin -- --username NAME   (password from BOOKAPI_ADMIN_PASSWORD or a prompt)';

/**
 * Creates an admin account, or promotes an existing account to admin (its
 * password is then left as it is).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { username: { type: 'string' } }, strict: true });
  const username = values.username?.trim().normalize('NFC');
  if (!username || username.length < USERNAME.minLength || username.length > USERNAME.maxLength) {
    throw new ConfigError(
      `${USAGE}\nthe username must be ${USERNAME.minLength}-${USERNAME.maxLength} characters`,
    );
  }
  const config = loadConfig();
  const db = createDatabase(config.database);
  try {
    await migrateToLatest(db);
    const existing = await db
      .selectFrom('users')
      .select('id')
      .where('username', '=', username)
      .executeTakeFirst();
    const password = existing ? '' : await readPassword();
    if (!existing) checkPassword(password);
    const outcome = await createAdmin(db, { username, password }, systemClock);
    const said = { created: 'created admin', promoted: 'promoted to admin', exists: 'already an admin:' }[
      outcome
    ];
    console.log(`${said} ${username}`);
  } finally {
    await db.destroy();
  }
}

function checkPassword(password: string): void {
  if (password.length < PASSWORD.minLength || password.length > PASSWORD.maxLength) {
    throw new ConfigError(`the password must be ${PASSWORD.minLength}-${PASSWORD.maxLength} characters`);
  }
  if (isCommonPassword(password)) throw new ConfigError('this password is too common; choose another one');
}

async function readPassword(): Promise<string> {
  const fromEnv = process.env.BOOKAPI_ADMIN_PASSWORD;
  if (fromEnv) return fromEnv;
  const tty = process.stdin.isTTY === true;
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: tty });
  if (tty) {
    // Echo nothing while the password is typed.
    const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput;
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.startsWith('Password')) write.call(rl, s);
    };
  }
  const password = await new Promise<string>((resolve) => {
    rl.question('Password for the new admin: ', resolve);
    rl.once('close', () => resolve(''));
  });
  rl.close();
  if (tty) process.stdout.write('\n');
  return password;
}

main().catch((error: unknown) => {
  process.stderr.write(`bookapi: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
