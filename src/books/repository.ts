import type { Db } from '../db/database.js';
import { isPostgres } from '../db/dialect.js';
import type { HotPath, MaybePromise } from '../db/hot-path.js';
import { bookKey } from './normalize.js';
import { characters, containsPattern, searchText } from './search.js';

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

/** What a list page is narrowed to: `?owner=me` and the folded words of `?q=` (src/books/search.ts). */
export interface BookFilter {
  ownerId?: number;
  words: readonly string[];
}

/** Runs one statement (placeholders `?`); undefined when it cannot run right now. */
export type Read = (sql: string, params: readonly unknown[]) => MaybePromise<BookRow[]> | undefined;

/** Below this many characters a word has no trigram, and no trigram index can find it. */
const TRIGRAM = 3;

/**
 * A page of the books that match a filter, by keyset on id like the whole
 * list. Every word is `search_text like '%word%' escape '!'` on both
 * databases: that condition alone decides what matches, so SQLite and
 * PostgreSQL answer the same. The indexes only narrow the rows it is tried on:
 * PostgreSQL's planner picks the GIN trigram index or the id order by the
 * values it is given. SQLite has no such statistics, and its FTS5 index ignores
 * a LIKE with ESCAPE (EXPLAIN QUERY PLAN shows a full scan of the index), so
 * there words of 3 or more characters also go to FTS5 as a MATCH of quoted
 * trigram phrases, an exact substring test, in two steps: the next ids after
 * `after` are scanned first (cheap, and where a common word fills the page at
 * once), then the index finds the rest (where a rare word is found without
 * reading the table). Two steps rather than the index alone: the index hands
 * every match over before the first row is returned, ~20 ms for a word in all
 * 100,000 books of the benchmark against ~0.15 ms for the scan.
 */
export function readFilteredPage(
  read: Read,
  postgres: boolean,
  after: number,
  limit: number,
  filter: BookFilter,
): MaybePromise<BookRow[]> | undefined {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (filter.ownerId !== undefined) {
    conditions.push('books.owner_id = ?');
    params.push(filter.ownerId);
  }
  for (const word of filter.words) {
    conditions.push("books.search_text like ? escape '!'");
    params.push(containsPattern(word));
  }
  const where = conditions.map((c) => ` and ${c}`).join('');
  const indexed = postgres ? [] : filter.words.filter((word) => characters(word) >= TRIGRAM);
  if (indexed.length === 0)
    return read(`${SELECT} where books.id > ?${where} order by books.id limit ?`, [after, ...params, limit]);
  const scanned = after + scanWindow(limit);
  const first = read(`${SELECT} where books.id > ? and books.id <= ?${where} order by books.id limit ?`, [
    after,
    scanned,
    ...params,
    limit,
  ]);
  if (first === undefined) return undefined;
  return then(first, (rows) => {
    if (rows.length === limit) return rows;
    // The window went past the last book: nothing is left for the index to find. (Asking it
    // anyway would walk the word's whole list of rows to get past `scanned`: ~7 ms for a word
    // in all 100,000 books.)
    const end = read(LAST_ID_SQL, []);
    if (end === undefined) throw new Error('a statement that ran could not run again');
    return then(end, (last) => {
      if (Number(last[0]?.id ?? 0) <= scanned) return rows;
      // Joined, in the index's own rowid order, so it stops at the page's end instead of
      // handing over every match first.
      const rest = read(`${FTS_SELECT} and books_fts.rowid > ?${where} order by books_fts.rowid limit ?`, [
        indexed.map((word) => `"${word.replaceAll('"', '""')}"`).join(' '),
        scanned,
        ...params,
        limit - rows.length,
      ]);
      if (rest === undefined) throw new Error('a statement that ran could not run again');
      return then(rest, (more) => rows.concat(more));
    });
  });
}

const LAST_ID_SQL = 'select max(id) as id from books';

/** Phrases ANDed: the rows whose search_text holds each word's characters in a row. */
const FTS_SELECT =
  `select ${columns.map((c) => `books.${c}`).join(', ')} from books_fts ` +
  'join books on books.id = books_fts.rowid where books_fts match ?';

/**
 * Ids scanned before the index is asked: a word in 1 book of 20 or more fills
 * its page there, typically. Reading a row costs ~0.1 µs, the index ~0.7 µs
 * per match it hands over, so a rarer word is cheaper from the index. At most
 * 20,000 rows (~2 ms) for the largest page, whatever the size of the library.
 */
function scanWindow(limit: number): number {
  return 20 * limit;
}

/** Synchronous on SQLite's hot path (no promise per request), asynchronous otherwise. */
function then<T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}

export async function findBook(db: Db, id: number): Promise<BookRow | undefined> {
  return db.selectFrom('books').select(columns).where('id', '=', id).executeTakeFirst();
}

/**
 * The book, its row locked until the transaction ends on PostgreSQL
 * (SQLite's write transaction holds the whole database): a change computed
 * from it cannot overwrite one made in between.
 */
export async function lockBook(trx: Db, id: number): Promise<BookRow | undefined> {
  let query = trx.selectFrom('books').select(columns).where('id', '=', id);
  if (isPostgres(trx)) query = query.forUpdate();
  return query.executeTakeFirst();
}

const INSERT_BOOK_SQL =
  'insert into books (title, author, title_key, author_key, search_text, owner_id, created_at, updated_at) ' +
  `values (?, ?, ?, ?, ?, ?, ?, ?) returning ${columns.join(', ')}`;

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
  const search = searchText(book.title, book.author);
  const rows = hot?.write<BookRow>(INSERT_BOOK_SQL, [
    book.title,
    book.author,
    titleKey,
    authorKey,
    search,
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
      search_text: search,
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
      search_text: searchText(changes.title, changes.author),
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
