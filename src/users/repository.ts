import type { Db } from '../db/database.js';
import type { AuthUser } from './user.js';

export interface NewUser {
  publicId: string;
  username: string;
  passwordHash: string;
  createdAt: string;
}

export interface UserCredentials {
  user: AuthUser;
  passwordHash: string;
}

/** Throws the database's unique violation when the username is taken; the caller maps it. */
export async function insertUser(db: Db, user: NewUser): Promise<void> {
  await db
    .insertInto('users')
    .values({
      public_id: user.publicId,
      username: user.username,
      password_hash: user.passwordHash,
      admin: 0,
      created_at: user.createdAt,
    })
    .execute();
}

export async function findCredentials(db: Db, username: string): Promise<UserCredentials | undefined> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'public_id', 'username', 'admin', 'password_hash'])
    .where('username', '=', username)
    .executeTakeFirst();
  return row && { user: toAuthUser(row), passwordHash: row.password_hash };
}

/** The per-request lookup behind every protected route; admin is read fresh each time. */
export async function findByPublicId(db: Db, publicId: string): Promise<AuthUser | undefined> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'public_id', 'username', 'admin'])
    .where('public_id', '=', publicId)
    .executeTakeFirst();
  return row && toAuthUser(row);
}

function toAuthUser(row: { id: number; public_id: string; username: string; admin: number }): AuthUser {
  return { id: row.id, publicId: row.public_id, username: row.username, admin: row.admin === 1 };
}

export async function updatePasswordHash(db: Db, userId: number, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
}
