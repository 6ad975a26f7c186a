import type { Db } from '../../db/database.js';
import { validatorCompiler } from '../../http/validation.js';
import { findCredentials } from '../../users/repository.js';
import { bookKey } from '../normalize.js';
import { NewBook } from '../schemas.js';
import { searchText } from '../search.js';
import { MalformedRecord, type SourceRecord } from './records.js';

export interface ImportOptions {
  /** The owner of every imported book; otherwise each record's `owner` (a username). */
  owner?: string;
  /** Import the valid records and report the rest, committing batch by batch; otherwise all or nothing. */
  skipInvalid: boolean;
  batchSize: number;
  now: string;
  onRejected(where: string, reason: string): void;
  onProgress(imported: number, rejected: number): void;
}

export interface ImportResult {
  imported: number;
  rejected: number;
  /** False when nothing was kept because a record was rejected (all-or-nothing mode). */
  committed: boolean;
}

interface Pending {
  where: string;
  title: string;
  author: string;
  ownerId: number;
}

// The API's own body schema: a record is valid here exactly when POST /bookapi/books would take it.
const validate = validatorCompiler({
  schema: NewBook,
  httpPart: 'body',
  method: 'POST',
  url: '/bookapi/books',
}) as ((value: unknown) => boolean) & {
  errors?: { instancePath: string; keyword: string; message?: string }[] | null;
};

class Rejected extends Error {}

/**
 * Imports books with the API's validation and duplicate rule (same title
 * and author, ignoring case and spacing — the database's unique index
 * decides, so duplicates against existing books and within the file are
 * both found). Batched multi-row inserts; all or nothing by default.
 */
export async function importBooks(
  db: Db,
  records: AsyncIterable<SourceRecord>,
  options: ImportOptions,
): Promise<ImportResult> {
  const owners = new Map<string, number | undefined>();
  let imported = 0;
  let rejected = 0;
  const reject = (where: string, reason: string) => {
    rejected++;
    options.onRejected(where, reason);
  };

  // Looked up through the open transaction, if any: SQLite has one connection, and it is the transaction's.
  let lookup: Db = db;
  const ownerId = async (name: string): Promise<number | undefined> => {
    if (!owners.has(name)) owners.set(name, (await findCredentials(lookup, name))?.id);
    return owners.get(name);
  };
  if (options.owner !== undefined && (await ownerId(options.owner)) === undefined) {
    throw new Rejected(`--owner ${options.owner} is not a registered user`);
  }

  // All or nothing: every batch goes into the caller's one transaction. Otherwise each batch commits on its own.
  const run = async (outer: Db | undefined) => {
    lookup = outer ?? db;
    let batch: Pending[] = [];
    const flush = async () => {
      const rows = batch;
      batch = [];
      const save = (target: Db) => insertBatch(target, rows, options.now);
      const inserted = outer ? await save(outer) : await db.transaction().execute(save);
      for (const row of inserted.duplicates)
        reject(row.where, 'a book with the same title and author already exists');
      imported += inserted.count;
      options.onProgress(imported, rejected);
    };
    for await (const record of records) {
      const book = await toPending(record, options.owner, ownerId);
      if (typeof book === 'string') reject(record.where, book);
      else batch.push(book);
      if (batch.length >= options.batchSize) await flush();
    }
    await flush();
  };

  if (options.skipInvalid) {
    await run(undefined);
    return { imported, rejected, committed: true };
  }
  try {
    await db.transaction().execute(async (trx) => {
      await run(trx);
      // Nothing half-imported: one rejected record and the whole file is rolled back.
      if (rejected > 0) throw new Rejected();
    });
  } catch (error) {
    if (error instanceof Rejected && rejected > 0) return { imported: 0, rejected, committed: false };
    throw error;
  }
  return { imported, rejected, committed: true };
}

export { Rejected as ImportRefused };

async function toPending(
  record: SourceRecord,
  fixedOwner: string | undefined,
  ownerId: (name: string) => Promise<number | undefined>,
): Promise<Pending | string> {
  const { value } = record;
  if (value instanceof MalformedRecord) return value.reason;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'not an object with title and author';
  const { owner, ...fields } = value as Record<string, unknown>;
  const book = { title: fields.title, author: fields.author };
  if (!validate(book)) {
    const error = validate.errors?.[0];
    const field = error?.instancePath.replace(/^\//, '') || 'record';
    // The pattern itself means nothing to a reader: say what it requires.
    if (error?.keyword === 'pattern')
      return `${field} must be visible text without control characters (no line breaks)`;
    return `${field} ${error?.message ?? 'is invalid'}`;
  }
  const name = fixedOwner ?? (typeof owner === 'string' && owner !== '' ? owner : undefined);
  if (name === undefined) return 'no owner: give the file an owner column or pass --owner USERNAME';
  const id = await ownerId(name);
  if (id === undefined) return `owner "${name}" is not a registered user`;
  return {
    where: record.where,
    title: (book.title as string).trim(),
    author: (book.author as string).trim(),
    ownerId: id,
  };
}

/** One multi-row insert; rows the unique index turned away (in the database or earlier in the batch) come back as duplicates. */
async function insertBatch(
  db: Db,
  rows: Pending[],
  now: string,
): Promise<{ count: number; duplicates: Pending[] }> {
  if (rows.length === 0) return { count: 0, duplicates: [] };
  const keyed = rows.map((row) => ({ row, key: `${bookKey(row.title)}\n${bookKey(row.author)}` }));
  const inserted = await db
    .insertInto('books')
    .values(
      keyed.map(({ row }) => ({
        title: row.title,
        author: row.author,
        title_key: bookKey(row.title),
        author_key: bookKey(row.author),
        search_text: searchText(row.title, row.author),
        owner_id: row.ownerId,
        created_at: now,
        updated_at: now,
      })),
    )
    .onConflict((oc) => oc.columns(['title_key', 'author_key']).doNothing())
    .returning(['title_key', 'author_key'])
    .execute();
  const fresh = new Set(inserted.map((r) => `${r.title_key}\n${r.author_key}`));
  const duplicates: Pending[] = [];
  for (const { row, key } of keyed) {
    // The first record with a key that was inserted claims it; any other record with that key is a duplicate.
    if (fresh.has(key)) fresh.delete(key);
    else duplicates.push(row);
  }
  return { count: inserted.length, duplicates };
}
