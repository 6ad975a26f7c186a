import { createHash } from 'node:crypto';
import { parse, serialize } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';

/**
 * The web client's refresh token, in a cookie its page cannot read (the IETF
 * "OAuth 2.0 for Browser-Based Apps" draft): HttpOnly, SameSite=Strict,
 * Secure whenever the request came over HTTPS, no Domain, and sent only to
 * /token (refresh and logout). Issued only when a client asks for it with
 * the header below at login; API clients keep the refresh token in the JSON.
 *
 * The cookie endpoints refuse cross-site requests three ways: SameSite=Strict
 * keeps the browser from sending the cookie, the custom header cannot be sent
 * cross-origin without a CORS preflight this server never grants, and an
 * `Origin` or `Sec-Fetch-Site` that names another site is refused outright.
 */
export const REFRESH_COOKIE = 'bookapi_refresh';
export const COOKIE_PATH = '/token';
/** `X-Bookapi-Refresh: cookie` asks for cookie mode (and proves the request is not a plain form post). */
export const MODE_HEADER = 'x-bookapi-refresh';

/**
 * Cookies are not kept apart by port: a page on another port of the same
 * host is sent this cookie too, and can plant one of its own. So a cookie
 * session is also bound to a secret the client keeps in its origin's storage
 * (which ports do not share) and sends with every cookie request: the
 * server stores only its SHA-256, and a cookie presented without the secret
 * it was issued with is taken for a stolen one.
 */
export const BINDING_HEADER = 'x-bookapi-binding';
const BINDING = /^[A-Za-z0-9_-]{43}$/;

/** The SHA-256 of the request's binding secret; 400 when it is missing or malformed. */
export function bindingOf(req: FastifyRequest): string {
  const value = req.headers[BINDING_HEADER];
  if (typeof value !== 'string' || !BINDING.test(value))
    throw new ApiError(
      400,
      'INVALID_INPUT',
      'Cookie mode needs X-Bookapi-Binding: 32 random bytes in base64url (43 characters), kept by the client',
    );
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Whether the client asks for cookie mode (`cookie`, in any case). Any other
 * value is a mistake that would put the refresh token back in the JSON,
 * where a page's scripts can read it: 400.
 */
export function wantsCookie(req: FastifyRequest): boolean {
  const value = req.headers[MODE_HEADER];
  if (value === undefined) return false;
  if (typeof value === 'string' && value.trim().toLowerCase() === 'cookie') return true;
  throw new ApiError(400, 'INVALID_INPUT', 'X-Bookapi-Refresh must be "cookie" (or absent)');
}

const secure = (req: FastifyRequest) => req.protocol.toLowerCase() === 'https';

export function setRefreshCookie(
  req: FastifyRequest,
  reply: FastifyReply,
  token: string,
  maxAge: number,
): void {
  reply.header(
    'set-cookie',
    serialize(REFRESH_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: secure(req),
      path: COOKIE_PATH,
      maxAge,
    }),
  );
}

/** The header that removes the cookie: sent on every logout, harmless to clients that never had one. */
export function clearingCookie(req: FastifyRequest): string {
  return serialize(REFRESH_COOKIE, '', {
    httpOnly: true,
    sameSite: 'strict',
    secure: secure(req),
    path: COOKIE_PATH,
    maxAge: 0,
  });
}

const NAMED = new RegExp(`(?:^|;)\\s*${REFRESH_COOKIE}=`, 'g');

/**
 * The refresh cookie, or undefined. Two cookies of that name mean one was
 * planted (by a sibling subdomain, or over plain HTTP with a narrower path,
 * which browsers send first): neither is trusted.
 */
export function readRefreshCookie(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  if ((header.match(NAMED)?.length ?? 0) > 1) return undefined;
  try {
    return parse(header)[REFRESH_COOKIE] || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A cookie endpoint's request must come from this server's own pages: the
 * mode header present, and no `Origin` or `Sec-Fetch-Site` naming another
 * site (a browser sends at least one of them on every POST; other clients
 * send neither, and have no cookie to abuse).
 */
export function checkSameOrigin(req: FastifyRequest): void {
  if (!wantsCookie(req)) throw crossSite('send X-Bookapi-Refresh: cookie from the web client');
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') throw crossSite('a cross-site request');
  const origin = req.headers.origin;
  if (origin !== undefined && !sameOrigin(origin, `${req.protocol}://${req.host}`))
    throw crossSite('a cross-origin request');
}

/** Origins compared as URLs: the case of scheme and host, and a default port, make no difference. */
function sameOrigin(origin: string, own: string): boolean {
  try {
    const theirs = new URL(origin).origin;
    return theirs !== 'null' && theirs === new URL(own.toLowerCase()).origin;
  } catch {
    return false;
  }
}

function crossSite(why: string): ApiError {
  return new ApiError(403, 'CROSS_SITE_REQUEST', `Refused: ${why}`);
}
