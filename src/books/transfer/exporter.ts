import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type { Db } from '../../db/database.js';

export type ExportFormat = 'csv' | 'ndjson';

export interface ExportedBook {
  title: string;
  author: string;
  owner: string;
}

const PAGE = 1000;

/**
 * Writes every book, oldest first, in pages read by keyset (memory stays
 * flat), in a form `bookapi books import` reads back: title, author, owner.
 */
export async function exportBooks(db: Db, out: Writable, format: ExportFormat): Promise<number> {
  let after = 0;
  let count = 0;
  if (format === 'csv') await write(out, stringify([['title', 'author', 'owner']]));
  for (;;) {
    const rows = await db
      .selectFrom('books')
      .innerJoin('users', 'users.id', 'books.owner_id')
      .select(['books.id', 'books.title', 'books.author', 'users.username as owner'])
      .where('books.id', '>', after)
      .orderBy('books.id')
      .limit(PAGE)
      .execute();
    if (rows.length === 0) break;
    const books = rows.map(({ title, author, owner }) => ({ title, author, owner }));
    await write(
      out,
      format === 'csv'
        ? stringify(books.map((b) => [b.title, b.author, b.owner]))
        : books.map((b) => `${JSON.stringify(b)}\n`).join(''),
    );
    count += rows.length;
    after = Number(rows[rows.length - 1]?.id);
  }
  return count;
}

/** Respects backpressure: a slow pipe holds the export, not the memory. */
async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}
