import { randomUUID } from 'node:crypto';
import { createSigner, createVerifier } from 'fast-jwt';
import type { Clock } from '../clock.js';
import { errors } from '../errors.js';

/** RFC 9068 media type: an access token can never be mistaken for another kind of JWT. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** The only algorithm accepted, whatever a token's header says (RFC 8725 §3.1). */
export const ALGORITHMS = ['HS256'] as const;
/** Clock skew tolerated between servers, in seconds (RFC 8725 allows "a few minutes"; we allow one). */
export const LEEWAY_SECONDS = 60;
/** Our tokens are ~300 bytes; anything much larger is refused before it is decoded. */
export const MAX_TOKEN_LENGTH = 2048;

/** Three base64url segments, no padding: the JWS compact form and nothing else (RFC 7515 §7.1). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface AccessClaims {
  /** The user's public id (also sent as `public_id`, the original tutorial's claim). */
  sub: string;
  jti: string;
  iat: number;
  exp: number;
}

export interface IssuedToken {
  token: string;
  /** Seconds until it expires. */
  expiresIn: number;
}

export interface TokenOptions {
  secret: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  clock: Clock;
}

export interface Tokens {
  issue(publicId: string): IssuedToken;
  /** Returns the claims, or throws the ApiError the client should see. */
  verify(token: string): AccessClaims;
}

export function createTokens(options: TokenOptions): Tokens {
  const { issuer, audience, ttlSeconds, clock } = options;
  const sign = createSigner({
    key: options.secret,
    algorithm: ALGORITHMS[0],
    header: { alg: ALGORITHMS[0], typ: ACCESS_TOKEN_TYPE },
  });
  // Signature, algorithm, typ, iss, aud and the presence of every claim are
  // checked by fast-jwt; the time claims are checked below against our clock,
  // so the signature is always verified before expiry is even looked at.
  const verifySignature = createVerifier({
    key: options.secret,
    algorithms: [...ALGORITHMS],
    checkTyp: ACCESS_TOKEN_TYPE,
    allowedIss: issuer,
    allowedAud: audience,
    requiredClaims: ['sub', 'jti', 'iat', 'exp', 'iss', 'aud'],
    ignoreExpiration: true,
    ignoreNotBefore: true,
  });

  return {
    issue(publicId) {
      // iat and exp come from our clock (fast-jwt keeps an iat given in the payload).
      const iat = Math.floor(clock.now() / 1000);
      const token = sign({
        sub: publicId,
        public_id: publicId,
        jti: randomUUID(),
        iss: issuer,
        aud: audience,
        iat,
        exp: iat + ttlSeconds,
      });
      return { token, expiresIn: ttlSeconds };
    },

    verify(token) {
      if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) throw errors.tokenInvalid();
      let payload: Record<string, unknown>;
      try {
        payload = verifySignature(token) as Record<string, unknown>;
      } catch {
        throw errors.tokenInvalid();
      }
      const { sub, jti, iat, exp, nbf } = payload;
      if (
        typeof sub !== 'string' ||
        typeof jti !== 'string' ||
        !isTime(iat) ||
        !isTime(exp) ||
        (nbf !== undefined && !isTime(nbf))
      ) {
        throw errors.tokenInvalid();
      }
      const now = clock.now() / 1000;
      if (iat > now + LEEWAY_SECONDS || (nbf !== undefined && nbf > now + LEEWAY_SECONDS)) {
        throw errors.tokenInvalid();
      }
      if (exp <= now - LEEWAY_SECONDS) throw errors.tokenExpired();
      return { sub, jti, iat, exp };
    },
  };
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
