import type { Db } from '../db/database.js';
import type { HotPath } from '../db/hot-path.js';
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

/** listBooks and findBook as hot statements (src/db/read-side.ts), for the cached reads. */
const SELECT = `select ${columns.join(', ')} from books`;
export const LIST_BOOKS_SQL = `${SELECT} where id > ? order by id limit ?`;
export const FIND_BOOK_SQL = `${SELECT} where id = ?`;

/** Keyset pagination: cost depends on the page size, not on how deep the page is. */
export async function listBooks(db: Db, after: number, limit: number): Promise<BookRow[]> {
  return db.selectFrom('books').select(columns).where('id', '>', after).orderBy('id').limit(limit).execute();
}

export async function findBook(db: Db, id: number): Promise<BookRow | undefined> {
  return db.selectFrom('books').select(columns).where('id', '=', id).executeTakeFirst();
}

const INSERT_BOOK_SQL =
  'insert into books (title, author, title_key, author_key, owner_id, created_at, updated_at) ' +
  `values (?, ?, ?, ?, ?, ?, ?) returning ${columns.join(', ')}`;

/**
 * Throws the database's unique violation on a duplicate title+author; the
 * caller maps it. With the hot path, one prepared statement that commits by
 * itself; the query builder when it cannot (see HotPath.write).
 */
export async function insertBook(
  db: Db,
  book: { title: string; author: string; ownerId: number; now: string },
  hot?: HotPath,
): Promise<BookRow> {
  const titleKey = bookKey(book.title);
  const authorKey = bookKey(book.author);
  const rows = hot?.write<BookRow>(INSERT_BOOK_SQL, [
    book.title,
    book.author,
    titleKey,
    authorKey,
    book.ownerId,
    book.now,
    book.now,
  ]);
  if (rows !== undefined) {
    const row = (await rows)[0];
    if (row === undefined) throw new Error('insert returned no row');
    return row;
  }
  return db
    .insertInto('books')
    .values({
      title: book.title,
      author: book.author,
      title_key: titleKey,
      author_key: authorKey,
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
