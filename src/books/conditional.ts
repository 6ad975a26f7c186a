import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import type { BookRow } from './repository.js';

/**
 * A strong entity tag for a book's representation (RFC 9110 §8.8.3): it
 * changes whenever anything the client sees of the book changes.
 */
export function etagOf(row: Pick<BookRow, 'id' | 'title' | 'author' | 'updated_at'>): string {
  const digest = createHash('sha256')
    .update(`${row.id}\n${row.title}\n${row.author}\n${row.updated_at}`)
    .digest('base64url')
    .slice(0, 22);
  return `"${digest}"`;
}

/** The entity tags of an If-Match or If-None-Match list; `*` as itself. */
function tags(header: string): string[] {
  return header.match(/\*|(?:W\/)?"[^"]*"/g) ?? [];
}

/**
 * RFC 9110 §13.2.2: If-Match, else If-Unmodified-Since, evaluated against the
 * book as it is now (read under the write's lock), before the change. A
 * client that read the book, then sends its ETag with the change, can never
 * overwrite a change it has not seen: 412 instead.
 */
export function checkPreconditions(req: FastifyRequest, row: BookRow): void {
  const ifMatch = req.headers['if-match'];
  if (ifMatch !== undefined) {
    const current = etagOf(row);
    // Strong comparison: a weak tag never matches.
    if (!tags(ifMatch).some((t) => t === '*' || t === current)) throw changed();
    return;
  }
  const since = req.headers['if-unmodified-since'];
  if (since !== undefined) {
    const date = Date.parse(since);
    // An invalid date is ignored (§13.1.4); HTTP dates have whole seconds.
    if (!Number.isNaN(date) && Math.floor(Date.parse(row.updated_at) / 1000) * 1000 > date) throw changed();
  }
}

/** RFC 9110 §13.1.2: whether an If-None-Match names the current representation (a 304 then). */
export function notModified(req: FastifyRequest, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (header === undefined) return false;
  // Weak comparison: W/"x" matches "x".
  return tags(header).some((t) => t === '*' || t.replace(/^W\//, '') === etag);
}

function changed(): ApiError {
  return new ApiError(
    412,
    'PRECONDITION_FAILED',
    'The book has changed since you read it: read it again, then retry the change',
  );
}
