import { type Selectable, sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { PersonalAccessTokensTable } from '../db/schema.js';

export type TokenRow = Selectable<PersonalAccessTokensTable>;

export async function insertToken(
  db: Db,
  t: {
    publicId: string;
    userId: number;
    name: string;
    scopes: readonly string[];
    hash: string;
    prefix: string;
    now: number;
    expiresAt: number | null;
  },
): Promise<TokenRow> {
  return db
    .insertInto('personal_access_tokens')
    .values({
      public_id: t.publicId,
      user_id: t.userId,
      name: t.name,
      scopes: t.scopes.join(' '),
      token_hash: t.hash,
      prefix: t.prefix,
      created_at: t.now,
      expires_at: t.expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A user's tokens that are not revoked (expired ones too, until revoked or pruned), newest first. */
export async function listTokens(db: Db, userId: number): Promise<TokenRow[]> {
  return db
    .selectFrom('personal_access_tokens')
    .selectAll()
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .orderBy('id', 'desc')
    .execute();
}

/** Tokens not revoked, expired ones included (until revoked or pruned): what the list shows. */
export async function countTokens(db: Db, userId: number): Promise<number> {
  const row = await db
    .selectFrom('personal_access_tokens')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Revokes a user's tokens: all of them (a password change, a disable), or
 * those granted the admin scope (a demotion: a later promotion must not
 * bring them back). How many.
 */
export async function revokeUserTokens(
  db: Db,
  userId: number,
  now: number,
  which: 'all' | 'admin' = 'all',
): Promise<number> {
  let query = db
    .updateTable('personal_access_tokens')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (which === 'admin') query = query.where(sql<string>`' ' || scopes || ' '`, 'like', '% admin %');
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Revokes one of a user's tokens: its row, or undefined when it is not theirs or already revoked. */
export async function revokeToken(
  db: Db,
  userId: number,
  publicId: string,
  now: number,
): Promise<TokenRow | undefined> {
  return db
    .updateTable('personal_access_tokens')
    .set({ revoked_at: now })
    .where('public_id', '=', publicId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** Records when tokens were last used (batched; this column leaves the auth version alone). */
export async function touchTokens(db: Db, uses: ReadonlyMap<string, number>): Promise<void> {
  for (const [publicId, at] of uses) {
    await db
      .updateTable('personal_access_tokens')
      .set({ last_used_at: at })
      .where('public_id', '=', publicId)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
      .execute();
  }
}

/** The token's row and its owner, as the guard judges them (PAT_ROW_SQL for the hot path). */
export interface PatRow {
  id: number;
  public_id: string;
  username: string;
  admin: number;
  disabled: number;
  token_id: string;
  scopes: string;
  expires_at: number | null;
  revoked_at: number | null;
}

export const PAT_ROW_SQL =
  'select users.id, users.public_id, users.username, users.admin, users.disabled, ' +
  'personal_access_tokens.public_id as token_id, personal_access_tokens.scopes, ' +
  'personal_access_tokens.expires_at, personal_access_tokens.revoked_at ' +
  'from personal_access_tokens join users on users.id = personal_access_tokens.user_id ' +
  'where personal_access_tokens.token_hash = ?';

export async function findPatRow(db: Db, hash: string): Promise<PatRow | undefined> {
  return db
    .selectFrom('personal_access_tokens')
    .innerJoin('users', 'users.id', 'personal_access_tokens.user_id')
    .select([
      'users.id',
      'users.public_id',
      'users.username',
      'users.admin',
      'users.disabled',
      'personal_access_tokens.public_id as token_id',
      'personal_access_tokens.scopes',
      'personal_access_tokens.expires_at',
      'personal_access_tokens.revoked_at',
    ])
    .where('personal_access_tokens.token_hash', '=', hash)
    .executeTakeFirst();
}
