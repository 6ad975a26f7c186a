import { createHash, randomBytes, randomUUID } from 'node:crypto';

/**
 * `bkp_` and 256 random bits in base64url: a fixed, rare prefix so secret
 * scanners (and people) can recognise a leaked token, and nothing else in it
 * to learn from. Only a SHA-256 is stored — the token has all the entropy a
 * slow hash would add, and the lookup stays one indexed equality.
 */
export const PAT_PREFIX = 'bkp_';
const PAT = /^bkp_[A-Za-z0-9_-]{43}$/;
/** What GET /me/tokens shows to tell tokens apart: the prefix and 8 characters. */
const SHOWN = PAT_PREFIX.length + 8;

export interface NewToken {
  token: string;
  hash: string;
  prefix: string;
  publicId: string;
}

export function generateToken(): NewToken {
  const token = PAT_PREFIX + randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token), prefix: token.slice(0, SHOWN), publicId: randomUUID() };
}

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export const looksLikePat = (token: string) => token.startsWith(PAT_PREFIX);
export const isWellFormedPat = (token: string) => PAT.test(token);
