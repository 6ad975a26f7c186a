import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/database.js';
import type { HotPath, MaybePromise } from '../db/hot-path.js';
import { errors } from '../errors.js';
import { nextLink } from '../http/pagination.js';
import { type BookRow, FIND_BOOK_SQL, findBook, LIST_BOOKS_SQL, listBooks } from './repository.js';
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
}

interface Entry {
  version: string;
  answer: Answer;
  bytes: number;
}

/**
 * The two book reads every client repeats, answered from serialized JSON
 * while the 'books' version read for the request (by the guard, after the
 * request arrived) is the one the answer was filed under — a version read
 * before its rows, and changed by any book written anywhere in the same
 * transaction as the write. Without a version (no direct read possible right
 * now), the query builder answers and nothing is cached.
 */
export class BookReads {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly db: Db,
    private readonly hot: HotPath | undefined,
  ) {}

  list(req: FastifyRequest, reply: FastifyReply, after: number, limit: number): MaybePromise<string> {
    const answer = (rows: BookRow[]): Answer => ({
      body: reply.serialize({ Books: rows.map(toBook) }) as string,
      link: nextLink('/bookapi/books', limit, rows, (book) => book.id),
    });
    return this.answer(req, reply, `list ${after} ${limit}`, LIST_BOOKS_SQL, [after, limit], answer, () =>
      listBooks(this.db, after, limit),
    );
  }

  get(req: FastifyRequest, reply: FastifyReply, id: number): MaybePromise<string> {
    const answer = (rows: BookRow[]): Answer => ({
      body: rows[0] === undefined ? null : (reply.serialize(toBook(rows[0])) as string),
      link: undefined,
    });
    return this.answer(req, reply, `get ${id}`, FIND_BOOK_SQL, [id], answer, async () => {
      const row = await findBook(this.db, id);
      return row ? [row] : [];
    });
  }

  private answer(
    req: FastifyRequest,
    reply: FastifyReply,
    key: string,
    sql: string,
    params: unknown[],
    build: (rows: BookRow[]) => Answer,
    uncached: () => Promise<BookRow[]>,
  ): MaybePromise<string> {
    const version = req.dataVersions?.books;
    if (version !== undefined) {
      const entry = this.entries.get(key);
      if (entry !== undefined && entry.version === version) return send(reply, entry.answer);
      const rows = this.hot?.read<BookRow>(sql, params);
      if (rows instanceof Promise) return rows.then((r) => send(reply, this.file(key, version, build(r))));
      if (rows !== undefined) return send(reply, this.file(key, version, build(rows)));
    }
    return uncached().then((rows) => send(reply, build(rows)));
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

function send(reply: FastifyReply, answer: Answer): string {
  if (answer.body === null) throw errors.bookNotFound();
  if (answer.link !== undefined) reply.header('link', answer.link);
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
