import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { isPostgres } from '../db/dialect.js';
import { storableText } from '../db/text.js';
import { usernameSkeletons } from './skeleton.js';
import { usernameKey } from './username.js';

export interface NewUser {
  publicId: string;
  username: string;
  passwordHash: string;
  createdAt: string;
  admin?: boolean;
}

export interface UserRecord {
  id: number;
  publicId: string;
  username: string;
  admin: boolean;
  disabled: boolean;
  createdAt: string;
}

export interface UserCredentials extends UserRecord {
  passwordHash: string;
}

const columns = ['id', 'public_id', 'username', 'admin', 'disabled', 'created_at'] as const;

type Row = {
  id: number;
  public_id: string;
  username: string;
  admin: number;
  disabled: number;
  created_at: string;
};

function toRecord(row: Row): UserRecord {
  return {
    id: row.id,
    publicId: row.public_id,
    username: row.username,
    admin: row.admin === 1,
    disabled: row.disabled === 1,
    createdAt: row.created_at,
  };
}

/**
 * Throws the database's unique violation when the username, or a look-alike
 * of it, is taken; the caller maps it (see findUsernameClash).
 */
export async function insertUser(db: Db, user: NewUser): Promise<void> {
  const key = usernameKey(user.username);
  const skeletons = usernameSkeletons(key);
  await db
    .insertInto('users')
    .values({
      public_id: user.publicId,
      username: user.username.normalize('NFC'),
      username_key: key,
      username_skeleton_lower: skeletons.lower,
      username_skeleton_upper: skeletons.upper,
      password_hash: user.passwordHash,
      admin: user.admin ? 1 : 0,
      created_at: user.createdAt,
    })
    .execute();
}

/** The account a typed username means: `ALICE` and `ａｌｉｃｅ` find `alice` (see usernameKey). */
export async function findCredentials(db: Db, username: string): Promise<UserCredentials | undefined> {
  const key = usernameKey(username);
  // Signup refuses control characters: a name with a NUL is nobody's.
  if (!storableText(key)) return undefined;
  const row = await db
    .selectFrom('users')
    .select([...columns, 'password_hash'])
    .where('username_key', '=', key)
    .executeTakeFirst();
  return row && { ...toRecord(row), passwordHash: row.password_hash };
}

/**
 * Who already holds this identity ('same') or a look-alike of it ('confusable'),
 * if anyone. A courtesy before the work of a signup; the unique indexes decide.
 */
export async function findUsernameClash(
  db: Db,
  username: string,
): Promise<{ clash: 'same' | 'confusable'; username: string } | undefined> {
  const key = usernameKey(username);
  if (!storableText(key)) return undefined;
  const { lower, upper } = usernameSkeletons(key);
  const rows = await db
    .selectFrom('users')
    .select(['username', 'username_key'])
    .where((eb) =>
      eb.or([
        eb('username_key', '=', key),
        eb('username_skeleton_lower', '=', lower),
        eb('username_skeleton_upper', '=', upper),
      ]),
    )
    .execute();
  const row = rows.find((r) => r.username_key === key) ?? rows[0];
  return row && { clash: row.username_key === key ? 'same' : 'confusable', username: row.username };
}

export async function findCredentialsById(db: Db, id: number): Promise<UserCredentials | undefined> {
  const row = await db
    .selectFrom('users')
    .select([...columns, 'password_hash'])
    .where('id', '=', id)
    .executeTakeFirst();
  return row && { ...toRecord(row), passwordHash: row.password_hash };
}

export async function findUser(
  db: Db,
  by: { id: number } | { publicId: string },
): Promise<UserRecord | undefined> {
  const query = db.selectFrom('users').select(columns);
  const row = await ('id' in by
    ? query.where('id', '=', by.id)
    : query.where('public_id', '=', by.publicId)
  ).executeTakeFirst();
  return row && toRecord(row);
}

/** Keyset pagination over users by id, like books. */
/** Oldest first, by keyset; `q` keeps names containing it, compared as usernames are (case, width). */
export async function listUsers(db: Db, after: number, limit: number, q?: string): Promise<UserRecord[]> {
  let query = db.selectFrom('users').select(columns).where('id', '>', after);
  if (q !== undefined && q !== '') {
    // '!' escapes, not a backslash (see containsPattern in books/search.ts).
    const pattern = `%${usernameKey(q).replace(/[!%_]/g, '!$&')}%`;
    query = query.where(sql<boolean>`username_key like ${pattern} escape '!'`);
  }
  const rows = await query.orderBy('id').limit(limit).execute();
  return rows.map(toRecord);
}

export async function updatePasswordHash(db: Db, userId: number, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
}

export async function updateUserFlags(
  db: Db,
  userId: number,
  flags: { admin?: boolean; disabled?: boolean },
): Promise<void> {
  await db
    .updateTable('users')
    .set({
      ...(flags.admin === undefined ? {} : { admin: flags.admin ? 1 : 0 }),
      ...(flags.disabled === undefined ? {} : { disabled: flags.disabled ? 1 : 0 }),
    })
    .where('id', '=', userId)
    .execute();
}

/** Deletes the user; their books, sessions and refresh tokens go with them (ON DELETE CASCADE). */
export async function deleteUser(db: Db, userId: number): Promise<boolean> {
  const result = await db.deleteFrom('users').where('id', '=', userId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function countAdmins(db: Db): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('admin', '=', 1)
    .where('disabled', '=', 0)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * The ids of the active admins, locked until the transaction ends on
 * PostgreSQL, so two admins demoting each other at once cannot both win and
 * leave none. (SQLite runs one write transaction at a time anyway.)
 */
export async function lockActiveAdmins(trx: Db): Promise<number[]> {
  let query = trx.selectFrom('users').select('id').where('admin', '=', 1).where('disabled', '=', 0);
  if (isPostgres(trx)) query = query.forUpdate();
  return (await query.execute()).map((r) => r.id);
}

/**
 * The account's password hash and disabled flag, its row locked until the
 * transaction ends on PostgreSQL (SQLite's write transaction holds the whole
 * database). Undefined once the account is deleted.
 */
export async function lockAccount(
  trx: Db,
  userId: number,
): Promise<{ passwordHash: string; disabled: boolean } | undefined> {
  let query = trx.selectFrom('users').select(['password_hash', 'disabled']).where('id', '=', userId);
  if (isPostgres(trx)) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row && { passwordHash: row.password_hash, disabled: row.disabled === 1 };
}

/** Replaces a password hash only if it is still `current`: false when it changed meanwhile. */
export async function replacePasswordHash(
  db: Db,
  userId: number,
  current: string,
  next: string,
): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ password_hash: next })
    .where('id', '=', userId)
    .where('password_hash', '=', current)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
