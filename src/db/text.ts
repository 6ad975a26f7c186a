/**
 * PostgreSQL's text cannot hold U+0000 (it rejects the whole query), while
 * SQLite stores it. A value with one can match no stored row on either
 * database: lookups answer "not found" instead of asking.
 */
export function storableText(value: string): boolean {
  return !value.includes('\u0000');
}
