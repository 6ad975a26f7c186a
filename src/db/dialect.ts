// biome-ignore-all lint/suspicious/noExplicitAny: migrations run against the schema as it was then, not today's types
import { type ColumnDefinitionBuilder, type Kysely, PostgresAdapter } from 'kysely';

export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * An id column that never reuses a value, so a deleted book's URL never
 * points at a new book: AUTOINCREMENT on SQLite, an identity on PostgreSQL.
 */
export function idColumn(db: Kysely<any>) {
  const postgres = isPostgres(db);
  return (c: ColumnDefinitionBuilder) =>
    postgres ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement();
}
