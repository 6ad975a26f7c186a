/** A unique-constraint violation on either database (SQLite's code, PostgreSQL's SQLSTATE 23505). */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  const { code } = error as { code: unknown };
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** A foreign-key violation: the row it points at was deleted meanwhile (SQLite, or SQLSTATE 23503). */
export function isForeignKeyViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  const { code } = error as { code: unknown };
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}

/** pg's message when its client-side query_timeout fires; the error carries no code. */
export const QUERY_TIMEOUT_MESSAGE = 'Query read timeout';

/**
 * PostgreSQL refused a character in a text value: U+0000 (SQLSTATE 22021) or
 * one the database's encoding lacks (22P05). The client sent it: a 400.
 */
export function isUnstorableText(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  const { code } = error as { code: unknown };
  return code === '22021' || code === '22P05';
}
