import { randomUUID } from 'node:crypto';
import { createSigner, createVerifier } from 'fast-jwt';
import type { Clock } from '../clock.js';
import { errors } from '../errors.js';
import type { RingKey } from './keys.js';

/** RFC 9068 media type: an access token can never be mistaken for another kind of JWT. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** Clock skew tolerated between servers, in seconds. */
export const LEEWAY_SECONDS = 60;
/** Our tokens are ~400 bytes; anything much larger is refused before it is decoded. */
export const MAX_TOKEN_LENGTH = 2048;

/** Three base64url segments, no padding: the JWS compact form and nothing else (RFC 7515 §7.1). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const REQUIRED_CLAIMS = ['sub', 'sid', 'jti', 'iat', 'exp', 'iss', 'aud'];

export interface AccessClaims {
  /** The user's public id (also sent as `public_id`, the original tutorial's claim). */
  sub: string;
  /** The server-side session the token belongs to. */
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  /** Issued by a password login (not by a refresh). */
  fresh: boolean;
}

export interface IssuedToken {
  token: string;
  /** Seconds until it expires. */
  expiresIn: number;
}

export interface TokenOptions {
  /** HS256 secret, used when the key ring is empty. */
  secret: string;
  ring: readonly RingKey[];
  issuer: string;
  audience: string;
  ttlSeconds: number;
  clock: Clock;
}

export interface Tokens {
  issue(subject: { publicId: string; sessionId: string; fresh: boolean }): IssuedToken;
  /** Returns the claims, or throws the ApiError the client should see. */
  verify(token: string): AccessClaims;
}

type Verify = (token: string) => Record<string, unknown>;
type Verified = Readonly<AccessClaims & { nbf?: number }>;

/** Verified tokens remembered per process (~1 KB each); beyond this the oldest are dropped. */
const VERIFIED_CACHE_SIZE = 10_000;

export function createTokens(options: TokenOptions): Tokens {
  const { issuer, audience, ttlSeconds, clock, ring } = options;
  const signingKey = ring[0];
  const sign = signingKey
    ? createSigner({
        key: signingKey.privatePem,
        algorithm: signingKey.alg,
        kid: signingKey.kid,
        header: { alg: signingKey.alg, typ: ACCESS_TOKEN_TYPE, kid: signingKey.kid },
      })
    : createSigner({
        key: options.secret,
        algorithm: 'HS256',
        header: { alg: 'HS256', typ: ACCESS_TOKEN_TYPE },
      });

  // One verifier per key, each pinned to that key's single algorithm. fast-jwt
  // checks the signature first, then typ, iss, aud and the presence of every
  // claim; the time claims are checked below against our clock.
  const verifier = (key: string, algorithm: string): Verify =>
    createVerifier({
      key,
      algorithms: [algorithm as 'HS256'],
      checkTyp: ACCESS_TOKEN_TYPE,
      allowedIss: issuer,
      allowedAud: audience,
      requiredClaims: REQUIRED_CLAIMS,
      ignoreExpiration: true,
      ignoreNotBefore: true,
    }) as Verify;
  // Verified tokens by their exact text: the same string always verifies the same way, so
  // only the time claims (below), the session and the user are checked again on each request.
  const verified = new Map<string, Verified>();
  const byKid = new Map(ring.map((k) => [k.kid, verifier(k.publicPem, k.alg)]));
  const hmac = ring.length === 0 ? verifier(options.secret, 'HS256') : undefined;

  /** With a ring, `kid` only selects one of our own keys; without one, only HS256 exists. */
  function pickVerifier(token: string): Verify | undefined {
    if (hmac) return hmac;
    const header = parseSegment(token.slice(0, token.indexOf('.')));
    return typeof header?.kid === 'string' ? byKid.get(header.kid) : undefined;
  }

  return {
    issue({ publicId, sessionId, fresh }) {
      // iat and exp come from our clock (fast-jwt keeps an iat given in the payload).
      const iat = Math.floor(clock.now() / 1000);
      const token = sign({
        sub: publicId,
        public_id: publicId,
        sid: sessionId,
        jti: randomUUID(),
        iss: issuer,
        aud: audience,
        iat,
        exp: iat + ttlSeconds,
        ...(fresh ? { fresh: true } : {}),
      });
      return { token, expiresIn: ttlSeconds };
    },

    verify(token) {
      let claims = verified.get(token);
      if (claims === undefined) {
        claims = verifySignature(token);
        if (verified.size >= VERIFIED_CACHE_SIZE) {
          const oldest = verified.keys().next().value;
          if (oldest !== undefined) verified.delete(oldest);
        }
        verified.set(token, claims);
      }
      const now = clock.now() / 1000;
      if (
        claims.iat > now + LEEWAY_SECONDS ||
        (claims.nbf !== undefined && claims.nbf > now + LEEWAY_SECONDS)
      ) {
        throw errors.tokenInvalid();
      }
      if (claims.exp <= now - LEEWAY_SECONDS) throw errors.tokenExpired();
      return claims;
    },
  };

  /** Signature, header and claim shapes: what never changes for a given token string. */
  function verifySignature(token: string): Verified {
    if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) throw errors.tokenInvalid();
    const verify = pickVerifier(token);
    if (!verify) throw errors.tokenInvalid();
    let payload: Record<string, unknown>;
    try {
      payload = verify(token);
    } catch {
      throw errors.tokenInvalid();
    }
    const { sub, sid, jti, iat, exp, nbf, fresh } = payload;
    if (
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      typeof jti !== 'string' ||
      !isTime(iat) ||
      !isTime(exp) ||
      (nbf !== undefined && !isTime(nbf)) ||
      (fresh !== undefined && typeof fresh !== 'boolean')
    ) {
      throw errors.tokenInvalid();
    }
    return Object.freeze({
      sub,
      sid,
      jti,
      iat,
      exp,
      fresh: fresh === true,
      ...(nbf === undefined ? {} : { nbf }),
    });
  }
}

function parseSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
