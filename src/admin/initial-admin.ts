import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { hashPassword } from '../auth/passwords.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import { countAdmins, findCredentials, insertUser, updateUserFlags } from '../users/repository.js';

export type AdminOutcome = 'created' | 'promoted' | 'exists';

/**
 * Makes `username` an admin: creates the account with `password` if it does
 * not exist, or promotes it (keeping its password) if it does.
 */
export async function createAdmin(
  db: Db,
  admin: { username: string; password: string },
  clock: Clock,
): Promise<AdminOutcome> {
  admin = { ...admin, username: admin.username.normalize('NFC') };
  const existing = await findCredentials(db, admin.username);
  if (existing) {
    if (existing.admin && !existing.disabled) return 'exists';
    await updateUserFlags(db, existing.id, { admin: true, disabled: false });
    return 'promoted';
  }
  try {
    await insertUser(db, {
      publicId: randomUUID(),
      username: admin.username,
      passwordHash: await hashPassword(admin.password),
      createdAt: new Date(clock.now()).toISOString(),
      admin: true,
    });
    return 'created';
  } catch (error) {
    // Another instance starting at the same moment created it first.
    if (isUniqueViolation(error)) return 'exists';
    throw error;
  }
}

/** ADMIN_USERNAME/ADMIN_PASSWORD: the first admin, made only while the database has none. */
export async function ensureInitialAdmin(
  db: Db,
  admin: { username: string; password: string },
  clock: Clock,
  log: FastifyBaseLogger,
): Promise<void> {
  if ((await countAdmins(db)) > 0) return;
  const outcome = await createAdmin(db, admin, clock);
  log.warn(
    { event: 'admin.initial', username: admin.username, outcome },
    'initial admin set up from ADMIN_USERNAME',
  );
}
