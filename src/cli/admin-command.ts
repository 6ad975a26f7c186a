import type { Command } from 'commander';
import { AdminRefused, createAdmin } from '../admin/initial-admin.js';
import { newPasswordProblem } from '../auth/password-policy.js';
import { systemClock } from '../clock.js';
import { findCredentials } from '../users/repository.js';
import { withDatabase } from './database.js';
import { examples } from './examples.js';
import { readPassword } from './password.js';
import { UsageError } from './run.js';

const PASSWORD_SOURCES = `
The password comes from BOOKAPI_ADMIN_PASSWORD, else from the first line of stdin when it is a pipe,
else from a prompt that echoes nothing.`;

export function registerAdmin(program: Command): void {
  const admin = program
    .command('admin')
    .description('admin accounts: create, promote, list')
    .addHelpText(
      'after',
      examples(
        'bookapi admin create --username root',
        'bookapi admin promote --username alice',
        'bookapi admin list',
      ),
    );

  admin
    .command('create')
    .description('create a new admin account')
    .requiredOption('-u, --username <name>', 'the new account’s name')
    .addHelpText(
      'after',
      `${PASSWORD_SOURCES} A new password is asked twice.

Examples:
  $ bookapi admin create --username root
  $ BOOKAPI_ADMIN_PASSWORD="$(cat /run/secrets/admin)" bookapi admin create --username root`,
    )
    .action((options: { username: string }) =>
      withDatabase(async (db) => {
        const existing = await findCredentials(db, options.username);
        if (existing && !(existing.admin && !existing.disabled)) {
          throw new UsageError(
            `${options.username} is already registered (as ${existing.username}); if that account is yours, ` +
              `run \`bookapi admin promote --username ${existing.username}\``,
          );
        }
        const password = existing ? '' : await readPassword('Password for the new admin:', { confirm: true });
        if (!existing) checkNewPassword(password);
        const outcome = await refusalsAsUsage(() =>
          createAdmin(db, { username: options.username, password }, systemClock),
        );
        console.log(
          outcome === 'exists'
            ? `already an admin: ${existing?.username}`
            : `created admin ${options.username}`,
        );
      }),
    );

  admin
    .command('promote')
    .description('make an existing account an admin — proving it is yours with its password')
    .requiredOption('-u, --username <name>', 'the registered account')
    .option('--force', 'promote without its password (whoever registered the name gets admin rights)')
    .addHelpText(
      'after',
      `${PASSWORD_SOURCES}

Examples:
  $ bookapi admin promote --username alice
  $ bookapi admin promote --username alice --force`,
    )
    .action((options: { username: string; force?: boolean }) =>
      withDatabase(async (db) => {
        const existing = await findCredentials(db, options.username);
        if (!existing)
          throw new UsageError(
            `${options.username} is not registered; create it with \`bookapi admin create\``,
          );
        if (existing.admin && !existing.disabled) {
          console.log(`already an admin: ${existing.username}`);
          return;
        }
        const force = options.force === true;
        const password = force
          ? ''
          : await readPassword(`Password of the existing account ${existing.username}:`, { confirm: false });
        await refusalsAsUsage(() =>
          createAdmin(db, { username: options.username, password }, systemClock, { forcePromote: force }),
        );
        if (force) {
          process.stderr.write(
            `bookapi: WARNING: promoted ${existing.username} to admin without checking its password: ` +
              'whoever registered that account now has admin rights\n',
          );
        }
        console.log(`promoted to admin ${existing.username}`);
      }),
    );

  admin
    .command('list')
    .description('list the admin accounts')
    .addHelpText('after', examples('bookapi admin list'))
    .action(() =>
      withDatabase(async (db) => {
        const rows = await db
          .selectFrom('users')
          .select(['username', 'public_id', 'disabled', 'created_at'])
          .where('admin', '=', 1)
          .orderBy('id')
          .execute();
        if (rows.length === 0)
          console.log('no admin yet: create one with `bookapi admin create --username NAME`');
        for (const r of rows) {
          console.log(
            `${r.username}\t${r.public_id}\t${r.disabled ? 'disabled' : 'active'}\tsince ${r.created_at}`,
          );
        }
      }),
    );
}

function checkNewPassword(password: string): void {
  const problem = newPasswordProblem(password);
  if (problem !== undefined) throw new UsageError(`the password ${problem}`);
}

/** A refusal is the operator's to fix (another name, the right password): exit code 2, with why. */
async function refusalsAsUsage<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AdminRefused && error.reason === 'password') {
      throw new UsageError(
        `${error.message}: not promoted. Give that account’s own password, or add --force`,
      );
    }
    throw error;
  }
}
