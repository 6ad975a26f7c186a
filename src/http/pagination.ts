import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

/** Digits only, like ids: "0x10", "1e3" or " 1" are not page sizes. */
export const PageLimit = Type.String({
  pattern: '^(?:[1-9][0-9]{0,2}|1000)$',
  default: String(DEFAULT_PAGE),
  description: `Page size, 1-${MAX_PAGE}`,
});

/**
 * Keyset pagination's next-page link. A full page may have a successor; an
 * empty next page is cheaper than counting the table.
 */
export function linkNext<T>(
  reply: FastifyReply,
  path: string,
  limit: number,
  page: T[],
  cursor: (last: T) => string | number,
): void {
  const link = nextLink(path, limit, page, cursor);
  if (link !== undefined) reply.header('link', link);
}

/** The Link header linkNext sets, or undefined when the page is not full. */
export function nextLink<T>(
  path: string,
  limit: number,
  page: T[],
  cursor: (last: T) => string | number,
): string | undefined {
  const last = page.at(-1);
  if (page.length !== limit || last === undefined) return undefined;
  return `<${path}?limit=${limit}&after=${cursor(last)}>; rel="next"`;
}
