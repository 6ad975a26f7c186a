import type { FastifyReply, FastifyRequest } from 'fastify';
import { CompiledQuery } from 'kysely';
import type { Db } from '../db/database.js';
import { isPostgres } from '../db/dialect.js';
import type { HotPath, MaybePromise } from '../db/hot-path.js';
import { errors } from '../errors.js';
import { nextLink } from '../http/pagination.js';
import { etagOf, notModified } from './conditional.js';
import {
  type BookFilter,
  type BookRow,
  FIND_BOOK_SQL,
  findBook,
  LIST_BOOKS_SQL,
  listBooks,
  type Read,
  readFilteredPage,
} from './repository.js';
import type { Book } from './schemas.js';

/**
 * Cached answers per process: at most this many bytes, counting what an entry costs beyond its
 * JSON (so that many tiny answers, 404s for ids nobody has, stay bounded too), and never a page
 * bigger than MAX_ANSWER_BYTES.
 */
const MAX_BYTES = 8 * 1024 * 1024;
const MAX_ANSWER_BYTES = 256 * 1024;
const ENTRY_OVERHEAD = 256;
const JSON_TYPE = 'application/json; charset=utf-8';

/** An answer as sent: serialized once, by the route's own response schema. Null body: 404. */
interface Answer {
  body: string | null;
  link: string | undefined;
  /** A single book's entity tag (conditional.ts). */
  etag?: string;
}

/** A list page: keyset position, size, and what it is narrowed to. */
export interface ListQuery {
  after: number;
  limit: number;
  filter: BookFilter;
  /** The client's `q`, carried into the next page's link; only when it has words. */
  q?: string;
}

interface Entry {
  version: string;
  answer: Answer;
  bytes: number;
}

/**
 * The book reads every client repeats — list pages (searches and `?owner=me`
 * included) and single books — answered from serialized JSON
 * while the 'books' version read for the request (by the guard, after the
 * request arrived) is the one the answer was filed under — a version read
 * before its rows, and changed by any book written anywhere in the same
 * transaction as the write. Without a version (no direct read possible right
 * now), the query builder answers and nothing is cached.
 */
export class BookReads {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly postgres: boolean;
  /** The hot path's prepared statements: committed data only. */
  private readonly direct: Read;
  /**
   * The query builder: on PostgreSQL unnamed statements on the pool, committed data like the hot
   * path's; on SQLite its one connection, maybe inside a transaction, so never cached there.
   */
  private readonly builder: Read;

  constructor(
    private readonly db: Db,
    private readonly hot: HotPath | undefined,
  ) {
    this.postgres = isPostgres(db);
    this.direct = (sql, params) => this.hot?.read<BookRow>(sql, params);
    this.builder = async (sql, params) => {
      let n = 0;
      const text = this.postgres ? sql.replace(/\?/g, () => `$${++n}`) : sql;
      return (await db.executeQuery<BookRow>(CompiledQuery.raw(text, [...params]))).rows;
    };
  }

  list(req: FastifyRequest, reply: FastifyReply, query: ListQuery): MaybePromise<string> {
    const { after, limit, filter, q } = query;
    const owner = filter.ownerId !== undefined;
    if (!owner && filter.words.length === 0) {
      return this.answer(
        req,
        reply,
        `list ${after} ${limit}`,
        () => this.direct(LIST_BOOKS_SQL, [after, limit]),
        (rows) => this.page(reply, limit, rows, ''),
        () => listBooks(this.db, after, limit),
      );
    }
    // The next page narrowed the same way: its link carries q and owner along.
    const carried = `${q === undefined ? '' : `&q=${encodeURIComponent(q)}`}${owner ? '&owner=me' : ''}`;
    const page = (read: Read) => readFilteredPage(read, this.postgres, after, limit, filter);
    // A named statement gets one generic plan after a few runs on PostgreSQL, the same for a
    // word in every book and a word in none, an owner of most books and one of a few (measured
    // on 100,000 books: 17 ms for a rare word, 11 ms for a small owner's page, against 0.05 ms
    // each planned for its values). Filtered pages are planned for their values instead:
    // unnamed statements on the pool, which also see only committed data.
    const read = this.postgres ? this.builder : this.direct;
    return this.answer(
      req,
      reply,
      `list ${after} ${limit} ${filter.ownerId ?? ''} ${q ?? ''}`,
      () => page(read),
      (rows) => this.page(reply, limit, rows, carried),
      async () => (await page(this.builder)) ?? [],
    );
  }

  get(req: FastifyRequest, reply: FastifyReply, id: number): MaybePromise<string> {
    const answer = (rows: BookRow[]): Answer => ({
      body: rows[0] === undefined ? null : (reply.serialize(toBook(rows[0])) as string),
      link: undefined,
      etag: rows[0] === undefined ? undefined : etagOf(rows[0]),
    });
    return this.answer(
      req,
      reply,
      `get ${id}`,
      () => this.direct(FIND_BOOK_SQL, [id]),
      answer,
      async () => {
        const row = await findBook(this.db, id);
        return row ? [row] : [];
      },
    );
  }

  private page(reply: FastifyReply, limit: number, rows: BookRow[], carried: string): Answer {
    return {
      body: reply.serialize({ Books: rows.map(toBook) }) as string,
      // nextLink ends its query with `after=<cursor>`: the cursor brings the filter along.
      link: nextLink('/bookapi/books', limit, rows, (book) => `${book.id}${carried}`),
    };
  }

  /**
   * The answer filed under `key` when its version is the request's; else the rows `read`
   * gets (committed data, read after the version), filed; else (no version, or no direct
   * read possible right now) the query builder's rows, not filed.
   */
  private answer(
    req: FastifyRequest,
    reply: FastifyReply,
    key: string,
    read: () => MaybePromise<BookRow[]> | undefined,
    build: (rows: BookRow[]) => Answer,
    uncached: () => Promise<BookRow[]>,
  ): MaybePromise<string> {
    const version = req.dataVersions?.books;
    if (version !== undefined) {
      const entry = this.entries.get(key);
      if (entry !== undefined && entry.version === version) return send(req, reply, entry.answer);
      const rows = read();
      if (rows instanceof Promise)
        return rows.then((r) => send(req, reply, this.file(key, version, build(r))));
      if (rows !== undefined) return send(req, reply, this.file(key, version, build(rows)));
    }
    return uncached().then((rows) => send(req, reply, build(rows)));
  }

  private file(key: string, version: string, answer: Answer): Answer {
    const bytes = ENTRY_OVERHEAD + key.length + (answer.body?.length ?? 0) + (answer.link?.length ?? 0);
    if (bytes > MAX_ANSWER_BYTES) return answer;
    const previous = this.entries.get(key);
    if (previous !== undefined) {
      this.entries.delete(key);
      this.bytes -= previous.bytes;
    }
    for (const [oldest, entry] of this.entries) {
      if (this.bytes + bytes <= MAX_BYTES) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
    this.entries.set(key, { version, answer, bytes });
    this.bytes += bytes;
    return answer;
  }
}

function send(req: FastifyRequest, reply: FastifyReply, answer: Answer): string {
  if (answer.body === null) throw errors.bookNotFound();
  if (answer.link !== undefined) reply.header('link', answer.link);
  if (answer.etag !== undefined) {
    reply.header('etag', answer.etag);
    if (req.headers['if-none-match'] !== undefined && notModified(req, answer.etag)) {
      reply.code(304);
      return '';
    }
  }
  reply.header('content-type', JSON_TYPE);
  return answer.body;
}

export function toBook(row: BookRow): Book {
  return {
    id: row.id,
    title: row.title,
    author: row.author,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}
