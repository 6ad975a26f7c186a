// biome-ignore-all lint/suspicious/noExplicitAny: migrations run against the schema as it was then, not today's types
import type { Kysely } from 'kysely';
import { idColumn } from '../dialect.js';

export async function up(db: Kysely<any>): Promise<void> {
  const id = idColumn(db);
  await db.schema
    .createTable('users')
    .addColumn('id', 'integer', id)
    .addColumn('public_id', 'text', (c) => c.notNull().unique())
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('admin', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('books')
    .addColumn('id', 'integer', id)
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('title_key', 'text', (c) => c.notNull())
    .addColumn('author_key', 'text', (c) => c.notNull())
    .addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  // The database, not a read-then-write in the app, decides duplicates: two
  // instances racing on the same book cannot both win.
  await db.schema
    .createIndex('books_title_author_key')
    .on('books')
    .columns(['title_key', 'author_key'])
    .unique()
    .execute();
  await db.schema.createIndex('books_owner_id').on('books').column('owner_id').execute();
}

/** Reverting drops tables that hold users' data: `bookapi migrate down` asks first. */
export const dropsUserData = true;

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('books').execute();
  await db.schema.dropTable('users').execute();
}
