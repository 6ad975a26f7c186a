import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import type { Clock } from '../clock.js';
import { ConfigError } from '../config.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import {
  countAdmins,
  findCredentials,
  findUsernameClash,
  insertUser,
  updateUserFlags,
} from '../users/repository.js';
import { checkUsername } from '../users/username.js';

export type AdminOutcome = 'created' | 'promoted' | 'exists';

/**
 * The operator asked for an admin that cannot be made safely: the name is
 * invalid, looks like someone else's, or belongs to an account whose password
 * they did not show. `detail` is the registered name in the way, or what is
 * wrong with the name.
 */
export class AdminRefused extends ConfigError {
  override name = 'AdminRefused';

  constructor(
    readonly reason: 'invalid' | 'password' | 'confusable',
    readonly username: string,
    readonly detail: string,
  ) {
    super(
      {
        invalid: `${username} is not a valid username: ${detail}`,
        password: `${username} is already registered (as ${detail}) with a password other than the one given`,
        confusable: `${username} looks the same as the registered user ${detail}`,
      }[reason],
    );
  }
}

/**
 * Makes `username` an admin: creates the account with `password`, or promotes
 * the existing account of that name (in any case or width) — only if
 * `password` is that account's own, or with `forcePromote`. Otherwise whoever
 * signed up first under the name an operator later picks would be handed
 * admin rights with a password of their choosing.
 */
export async function createAdmin(
  db: Db,
  admin: { username: string; password: string },
  clock: Clock,
  options: { forcePromote?: boolean } = {},
): Promise<AdminOutcome> {
  for (let attempt = 1; ; attempt++) {
    const existing = await findCredentials(db, admin.username);
    if (existing) {
      if (existing.admin && !existing.disabled) return 'exists';
      if (!options.forcePromote && !(await verifyPassword(existing.passwordHash, admin.password))) {
        throw new AdminRefused('password', admin.username, existing.username);
      }
      await updateUserFlags(db, existing.id, { admin: true, disabled: false });
      return 'promoted';
    }
    const checked = checkUsername(admin.username);
    if (!checked.ok) {
      throw new AdminRefused('invalid', admin.username, checked.message);
    }
    const clash = await findUsernameClash(db, checked.display);
    if (clash?.clash === 'confusable') {
      throw new AdminRefused('confusable', admin.username, clash.username);
    }
    try {
      await insertUser(db, {
        publicId: randomUUID(),
        username: checked.display,
        passwordHash: await hashPassword(admin.password),
        createdAt: new Date(clock.now()).toISOString(),
        admin: true,
      });
      return 'created';
    } catch (error) {
      // Someone took the name meanwhile (another instance starting, or a signup): decide again.
      if (!isUniqueViolation(error) || attempt >= 3) throw error;
    }
  }
}

/**
 * ADMIN_USERNAME/ADMIN_PASSWORD: the first admin, made only while the database
 * has none. An account already registered under that name is promoted only if
 * its password is ADMIN_PASSWORD; otherwise the server refuses to start.
 */
export async function ensureInitialAdmin(
  db: Db,
  admin: { username: string; password: string },
  clock: Clock,
  log: Pick<FastifyBaseLogger, 'warn'>,
): Promise<void> {
  if ((await countAdmins(db)) > 0) return;
  let outcome: AdminOutcome;
  try {
    outcome = await createAdmin(db, admin, clock);
  } catch (error) {
    if (error instanceof AdminRefused) throw new ConfigError(initialAdminRefusal(error));
    throw error;
  }
  log.warn(
    { event: 'admin.initial', username: admin.username, outcome },
    'initial admin set up from ADMIN_USERNAME',
  );
}

function initialAdminRefusal(error: AdminRefused): string {
  const name = `ADMIN_USERNAME ${error.username}`;
  switch (error.reason) {
    case 'password':
      return (
        `${name} is already registered (as ${error.detail}) by someone whose password is not ADMIN_PASSWORD; ` +
        'choose another ADMIN_USERNAME, or if that account is yours, promote it with ' +
        `\`bookapi admin promote --username ${error.detail}\` and its password`
      );
    case 'confusable':
      return `${name} looks the same as the registered user ${error.detail}; choose another ADMIN_USERNAME`;
    default:
      return `${name} is not a valid username: ${error.detail}`;
  }
}
