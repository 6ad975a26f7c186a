import type { Db } from '../db/database.js';
import { bookKey } from './normalize.js';

export interface BookRow {
  id: number;
  title: string;
  author: string;
  owner_id: number;
  created_at: string;
  updated_at: string;
}

const columns = ['id', 'title', 'author', 'owner_id', 'created_at', 'updated_at'] as const;

/** Keyset pagination: cost depends on the page size, not on how deep the page is. */
export async function listBooks(db: Db, after: number, limit: number): Promise<BookRow[]> {
  return db.selectFrom('books').select(columns).where('id', '>', after).orderBy('id').limit(limit).execute();
}

export async function findBook(db: Db, id: number): Promise<BookRow | undefined> {
  return db.selectFrom('books').select(columns).where('id', '=', id).executeTakeFirst();
}

/** Throws the database's unique violation on a duplicate title+author; the caller maps it. */
export async function insertBook(
  db: Db,
  book: { title: string; author: string; ownerId: number; now: string },
): Promise<BookRow> {
  return db
    .insertInto('books')
    .values({
      title: book.title,
      author: book.author,
      title_key: bookKey(book.title),
      author_key: bookKey(book.author),
      owner_id: book.ownerId,
      created_at: book.now,
      updated_at: book.now,
    })
    .returning(columns)
    .executeTakeFirstOrThrow();
}

export async function updateBook(
  db: Db,
  id: number,
  changes: { title: string; author: string; now: string },
): Promise<BookRow | undefined> {
  return db
    .updateTable('books')
    .set({
      title: changes.title,
      author: changes.author,
      title_key: bookKey(changes.title),
      author_key: bookKey(changes.author),
      updated_at: changes.now,
    })
    .where('id', '=', id)
    .returning(columns)
    .executeTakeFirst();
}

export async function deleteBook(db: Db, id: number): Promise<boolean> {
  const result = await db.deleteFrom('books').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}
