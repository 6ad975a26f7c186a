import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';

/**
 * Fastify's JSON parser, with two changes:
 *
 * - An empty body is fine on a route that declares no body (logout, DELETE):
 *   many clients send `Content-Type: application/json` on every request, and
 *   a 400 there would leave the user logged in or the book in place. A route
 *   that takes a body still gets Fastify's empty-body error.
 * - The bytes must be UTF-8 (RFC 8259 §8.1). Decoding leniently would store
 *   U+FFFD in place of what the client sent, or let two byte strings name the
 *   same thing; a fatal decoder refuses them instead, in the same single pass.
 *
 * - A charset other than UTF-8 is 415, and so is a compressed body
 *   (`Content-Encoding` other than identity, RFC 9110 §15.5.16): it would
 *   otherwise be parsed as the bytes on the wire and refused as bad JSON.
 *
 * Everything else — the __proto__ / constructor.prototype refusal, syntax
 * errors, the empty-body error — is Fastify's own parser, called as is.
 */
const UTF8_CHARSET = /;\s*charset\s*=\s*"?utf-?8"?\s*(;|$)/i;

export function installJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  // One shared decoder: decode() without { stream } keeps no state between calls. It drops a BOM.
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    // Only an empty body pays for the route lookup; the hot path is the decode and the parse.
    if (
      body.length === 0 &&
      (req.routeOptions.schema?.body === undefined || req.routeOptions.config.emptyBody?.(req) === true)
    ) {
      done(null, undefined);
      return;
    }
    const coding = req.headers['content-encoding'];
    if (coding !== undefined && coding.trim().toLowerCase() !== 'identity') {
      done(
        new ApiError(
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          `Unsupported Content-Encoding "${coding.slice(0, 32)}": send the body uncompressed`,
        ),
        undefined,
      );
      return;
    }
    // RFC 8259 §8.1: JSON is UTF-8. A body labelled otherwise would be misread, so it is refused.
    const type = req.headers['content-type'] ?? '';
    if (type.includes('charset') && !UTF8_CHARSET.test(type)) {
      done(new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported charset: send JSON in UTF-8'), undefined);
      return;
    }
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      done(new ApiError(400, 'INVALID_JSON', 'Request body is not valid UTF-8'), undefined);
      return;
    }
    void parseJson(req, text, done);
  });
}
