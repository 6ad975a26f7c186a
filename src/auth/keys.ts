import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { ConfigError } from '../config.js';

export type RingAlgorithm = 'EdDSA' | 'ES256';

/** Each algorithm is bound to one key type, so a key can never be used with another algorithm. */
const KEY_TYPES: Record<RingAlgorithm, { kty: string; crv: string; nodeType: string }> = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519', nodeType: 'ed25519' },
  ES256: { kty: 'EC', crv: 'P-256', nodeType: 'ec' },
};

export interface RingKey {
  kid: string;
  alg: RingAlgorithm;
  /** PEM of the private key; only the signing key needs one. */
  privatePem: string | undefined;
  publicPem: string;
  /** What /.well-known/jwks.json publishes. */
  publicJwk: { kty: string; crv: string; x: string; y?: string; kid: string; alg: RingAlgorithm; use: 'sig' };
}

/**
 * Validates the configured JWKs into the in-memory key ring. The first key
 * signs (so rotating is: put the new key first, keep the old ones until
 * their last tokens have expired, then drop them).
 */
export function loadKeyRing(jwks: readonly JsonWebKey[]): RingKey[] {
  const ring = jwks.map((jwk, i) => toRingKey(jwk, i));
  const kids = new Set(ring.map((k) => k.kid));
  if (kids.size !== ring.length) throw new ConfigError('JWT_KEYS: every kid must be unique');
  if (ring.length > 0 && !ring[0]?.privatePem) {
    throw new ConfigError('JWT_KEYS: the first key signs, so it must be a private key (with "d")');
  }
  return ring;
}

function toRingKey(jwk: JsonWebKey, index: number): RingKey {
  const where = `JWT_KEYS key #${index + 1}`;
  const { kid, alg } = jwk as { kid?: unknown; alg?: unknown };
  if (typeof kid !== 'string' || !/^[\w.-]{1,64}$/.test(kid)) {
    throw new ConfigError(`${where}: "kid" must be 1-64 letters, digits, "_", "-" or "."`);
  }
  if (alg !== 'EdDSA' && alg !== 'ES256') {
    throw new ConfigError(`${where} (${kid}): "alg" must be EdDSA or ES256`);
  }
  const expected = KEY_TYPES[alg];
  if (jwk.kty !== expected.kty || jwk.crv !== expected.crv) {
    throw new ConfigError(`${where} (${kid}): ${alg} needs kty ${expected.kty} and crv ${expected.crv}`);
  }
  let privateKey: KeyObject | undefined;
  let publicKey: KeyObject;
  try {
    privateKey = jwk.d ? createPrivateKey({ key: jwk, format: 'jwk' }) : undefined;
    publicKey = createPublicKey(privateKey ?? { key: jwk, format: 'jwk' });
  } catch (error) {
    throw new ConfigError(`${where} (${kid}): not a valid ${alg} key: ${(error as Error).message}`);
  }
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  return {
    kid,
    alg,
    privatePem: privateKey?.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicJwk: {
      kty: String(kty),
      crv: String(crv),
      x: String(x),
      ...(y ? { y } : {}),
      kid,
      alg,
      use: 'sig',
    },
  };
}
