import assert from 'node:assert/strict';
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { loadKeyRing } from '../../src/auth/keys.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { body, build, claims, forgeToken, HS256, loginPair, publicIdOf, status } from '../helpers.js';

function keyPair(alg: 'EdDSA' | 'ES256', kid: string): { priv: JsonWebKey; pub: JsonWebKey } {
  const { privateKey, publicKey } =
    alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    priv: { ...privateKey.export({ format: 'jwk' }), kid, alg } as JsonWebKey,
    pub: { ...publicKey.export({ format: 'jwk' }), kid, alg } as JsonWebKey,
  };
}

const header = (token: string) => JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString());

for (const alg of ['EdDSA', 'ES256'] as const) {
  test(`${alg} key ring: tokens carry the kid and verify in an independent verifier via the JWKS`, async (t) => {
    const { priv } = keyPair(alg, `${alg.toLowerCase()}-2026`);
    const { app, clock } = await build(t, { JWT_KEYS: JSON.stringify({ keys: [priv] }) });
    const pair = await loginPair(app);
    assert.deepEqual(header(pair.token), { alg, typ: 'at+jwt', kid: priv.kid });
    assert.equal(await status(app, '/bookapi/books', pair.headers), 200);

    const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.equal(res.statusCode, 200);
    const jwks = body<{ keys: (JsonWebKey & { kid: string })[] }>(res);
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]?.kid, priv.kid);
    assert.equal(jwks.keys[0]?.d, undefined, 'never the private part');
    const verified = await jwtVerify(
      pair.token,
      createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]),
      {
        issuer: 'bookapi',
        audience: 'bookapi',
        typ: 'at+jwt',
        algorithms: [alg],
        currentDate: new Date(clock.now()),
      },
    );
    assert.equal(typeof verified.payload.sub, 'string');
  });
}

test('rotation: the newest key signs, tokens from an older key keep working until dropped', async (t) => {
  const old = keyPair('EdDSA', 'old');
  const next = keyPair('EdDSA', 'new');
  const first = await build(t, { JWT_KEYS: JSON.stringify([old.priv]) });
  const oldPair = await loginPair(first.app);
  // A second instance on the same database, after rotation: new key first, the old one still verifying.
  const rotated = await build(t, { JWT_KEYS: JSON.stringify([next.priv, old.pub]) });
  const rotatedApp = await import('../../src/app.js').then(({ buildApp }) =>
    buildApp({ config: rotated.config, db: first.db, clock: first.clock }),
  );
  t.after(() => rotatedApp.close());
  assert.equal(await status(rotatedApp, '/bookapi/books', oldPair.headers), 200, 'old token still verifies');
  const fresh = await rotatedApp.inject({
    method: 'POST',
    url: '/token/refresh',
    payload: { refresh_token: oldPair.refresh_token },
  });
  assert.equal(header(body<{ token: string }>(fresh).token).kid, 'new');
  const jwks = body<{ keys: { kid: string }[] }>(
    await rotatedApp.inject({ method: 'GET', url: '/.well-known/jwks.json' }),
  );
  assert.deepEqual(
    jwks.keys.map((k) => k.kid),
    ['new', 'old'],
  );
  // Once the old key is dropped, its tokens stop.
  const dropped = await build(t, { JWT_KEYS: JSON.stringify([next.priv]) });
  const droppedApp = await import('../../src/app.js').then(({ buildApp }) =>
    buildApp({ config: dropped.config, db: first.db, clock: first.clock }),
  );
  t.after(() => droppedApp.close());
  assert.equal(await status(droppedApp, '/bookapi/books', oldPair.headers), 401);
});

test('with a key ring: unknown kid, no kid, and HS256 with the shared secret are all refused', async (t) => {
  const { priv } = keyPair('EdDSA', 'k1');
  const { app, db, clock } = await build(t, { JWT_KEYS: JSON.stringify([priv]) });
  await loginPair(app);
  const sub = await publicIdOf(db, 'testing_user');
  for (const token of [
    forgeToken({ ...HS256, kid: 'k1' }, claims(sub, clock)),
    forgeToken(HS256, claims(sub, clock)),
    forgeToken({ ...HS256, kid: 'unknown' }, claims(sub, clock)),
    forgeToken({ alg: 'EdDSA', typ: 'at+jwt', kid: '__proto__' }, claims(sub, clock)),
  ]) {
    const res = await app.inject({
      method: 'GET',
      url: '/bookapi/books',
      headers: { 'x-access-token': token },
    });
    assert.equal(res.statusCode, 401);
    assert.equal(body(res).message, 'Invalid token!');
  }
});

test('without a key ring the JWKS is empty (HS256 keys are never published)', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
  assert.deepEqual(body(res), { keys: [] });
});

test('bad key rings are refused at start with a clear message', () => {
  const ed = keyPair('EdDSA', 'ed').priv;
  const cases: [string, unknown, RegExp][] = [
    ['no kid', [{ ...ed, kid: undefined }], /"kid" must be/],
    ['alg none', [{ ...ed, alg: 'none' }], /"alg" must be EdDSA or ES256/],
    ['HS256 key', [{ kty: 'oct', k: 'c2VjcmV0', kid: 'h', alg: 'HS256' }], /"alg" must be EdDSA or ES256/],
    ['alg not matching the key', [{ ...ed, alg: 'ES256' }], /ES256 needs kty EC/],
    ['duplicate kid', [ed, { ...ed }], /kid must be unique/],
    ['public key first', [keyPair('EdDSA', 'p').pub], /first key signs/],
    ['broken key', [{ ...ed, x: 'AAAA', d: 'AAAA' }], /not a valid EdDSA key/],
  ];
  for (const [name, keys, message] of cases) {
    assert.throws(
      () => loadKeyRing(loadConfig({ JWT_KEYS: JSON.stringify(keys) }).jwtKeys),
      (e: unknown) => e instanceof ConfigError && message.test(e.message),
      name,
    );
  }
  assert.throws(() => loadConfig({ JWT_KEYS: 'not json' }), /JWT_KEYS must be JSON/);
  assert.throws(() => loadConfig({ JWT_KEYS: '[]' }), /non-empty list/);
  assert.throws(() => loadConfig({ JWT_KEYS_FILE: '/nonexistent/keys.json' }), /cannot be read/);
});
