import assert from 'node:assert/strict';
import { sign as cryptoSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  body,
  build,
  claims,
  forgeToken,
  HS256,
  ORIGINAL_USER,
  publicIdOf,
  signupAndLogin,
  TEST_SECRET,
} from '../helpers.js';

async function getBooks(app: FastifyInstance, headers: Record<string, string>) {
  const res = await app.inject({ method: 'GET', url: '/bookapi/books', headers });
  return { status: res.statusCode, message: body(res).message, challenge: res.headers['www-authenticate'] };
}

async function setup(t: Parameters<typeof build>[0]) {
  const ctx = await build(t);
  const { token } = await signupAndLogin(ctx.app);
  const sub = await publicIdOf(ctx.db, ORIGINAL_USER.username);
  const expectInvalid = async (bad: string, why: string) => {
    const res = await getBooks(ctx.app, { 'x-access-token': bad });
    assert.deepEqual(
      res,
      { status: 401, message: 'Invalid token!', challenge: 'Bearer realm="bookapi", error="invalid_token"' },
      why,
    );
  };
  return { ...ctx, token, sub, expectInvalid };
}

test('a valid token works in x-access-token and in Authorization: Bearer', async (t) => {
  const { app, token } = await setup(t);
  assert.equal((await getBooks(app, { 'x-access-token': token })).status, 200);
  assert.equal((await getBooks(app, { authorization: `Bearer ${token}` })).status, 200);
  assert.equal((await getBooks(app, { authorization: `bearer ${token}` })).status, 200);
});

test('no token answers 401 "A valid token is missing!" with a Bearer challenge', async (t) => {
  const { app } = await setup(t);
  assert.deepEqual(await getBooks(app, {}), {
    status: 401,
    message: 'A valid token is missing!',
    challenge: 'Bearer realm="bookapi"',
  });
  // Another scheme is not a token either.
  assert.equal(
    (await getBooks(app, { authorization: 'Basic dXNlcjpwYXNz' })).message,
    'A valid token is missing!',
  );
});

test('a token in the query string or a cookie is ignored (RFC 6750 §5.3)', async (t) => {
  const { app, token } = await setup(t);
  for (const request of [
    { url: `/bookapi/books?token=${token}` },
    { url: `/bookapi/books?access_token=${token}` },
    { url: '/bookapi/books', headers: { cookie: `token=${token}; x-access-token=${token}` } },
  ]) {
    const res = await app.inject({ method: 'GET', ...request });
    assert.equal(res.statusCode, 401);
    assert.equal(body(res).message, 'A valid token is missing!');
  }
});

test('a token expired 61 s ago answers 401 "Token has expired!"; 59 s ago is within the leeway', async (t) => {
  const { app, clock, token } = await setup(t);
  clock.advance(15 * 60 + 59);
  assert.equal((await getBooks(app, { 'x-access-token': token })).status, 200);
  clock.advance(2);
  const res = await getBooks(app, { 'x-access-token': token });
  assert.equal(res.status, 401);
  assert.equal(res.message, 'Token has expired!');
  assert.match(String(res.challenge), /error="invalid_token"/);
});

test('an expired token with a bad signature answers like any bad signature', async (t) => {
  const { clock, sub, expectInvalid } = await setup(t);
  const expired = forgeToken(
    HS256,
    claims(sub, clock, { exp: Math.floor(clock.now() / 1000) - 3600 }),
    'x'.repeat(32),
  );
  await expectInvalid(expired, 'expired + wrong key');
});

test('flipping one character of header, payload or signature invalidates the token', async (t) => {
  const { token, expectInvalid } = await setup(t);
  const parts = token.split('.');
  for (let part = 0; part < 3; part++) {
    const segment = parts[part] ?? '';
    const i = Math.floor(segment.length / 2);
    const flipped = segment.slice(0, i) + (segment[i] === 'A' ? 'B' : 'A') + segment.slice(i + 1);
    const copy = [...parts];
    copy[part] = flipped;
    await expectInvalid(copy.join('.'), `segment ${part} flipped`);
  }
});

test('a forged payload keeps its old signature and is refused', async (t) => {
  const { token, clock, expectInvalid } = await setup(t);
  const [header, , signature] = token.split('.');
  const payload = Buffer.from(JSON.stringify(claims('someone-else', clock))).toString('base64url');
  await expectInvalid(`${header}.${payload}.${signature}`, 'payload swapped');
});

test('"alg": "none" in any casing is refused', async (t) => {
  const { sub, clock, expectInvalid } = await setup(t);
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    const unsigned = `${Buffer.from(JSON.stringify({ alg, typ: 'at+jwt' })).toString('base64url')}.${Buffer.from(
      JSON.stringify(claims(sub, clock)),
    ).toString('base64url')}.`;
    await expectInvalid(unsigned, `alg ${alg}, empty signature`);
    await expectInvalid(`${unsigned}AAAA`, `alg ${alg}, junk signature`);
  }
});

test('HS384 and HS512 tokens signed with the right secret are refused (algorithm allow-list)', async (t) => {
  const { sub, clock, expectInvalid } = await setup(t);
  await expectInvalid(
    forgeToken({ alg: 'HS384', typ: 'at+jwt' }, claims(sub, clock), TEST_SECRET, 'sha384'),
    'HS384',
  );
  await expectInvalid(
    forgeToken({ alg: 'HS512', typ: 'at+jwt' }, claims(sub, clock), TEST_SECRET, 'sha512'),
    'HS512',
  );
});

test('RS256 and ES256 tokens are refused, as is RS256 "signed" with a public key as HMAC secret', async (t) => {
  const { sub, clock, expectInvalid } = await setup(t);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsInput = `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'at+jwt' })).toString('base64url')}.${Buffer.from(
    JSON.stringify(claims(sub, clock)),
  ).toString('base64url')}`;
  await expectInvalid(
    `${rsInput}.${cryptoSign('sha256', Buffer.from(rsInput), privateKey).toString('base64url')}`,
    'RS256',
  );
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const esInput = rsInput.replace(
    /^[^.]+/,
    Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt' })).toString('base64url'),
  );
  await expectInvalid(
    `${esInput}.${cryptoSign('sha256', Buffer.from(esInput), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`,
    'ES256',
  );
  const pem = publicKey.export({ type: 'spki', format: 'pem' });
  await expectInvalid(
    forgeToken({ alg: 'HS256', typ: 'at+jwt' }, claims(sub, clock), pem),
    'public key as HMAC secret',
  );
});

test('wrong or missing iss, aud, typ are refused', async (t) => {
  const { sub, clock, expectInvalid } = await setup(t);
  const { iss: _iss, aud: _aud, ...noIssAud } = claims(sub, clock);
  await expectInvalid(forgeToken(HS256, claims(sub, clock, { iss: 'evil' })), 'wrong iss');
  await expectInvalid(forgeToken(HS256, claims(sub, clock, { aud: 'other-service' })), 'wrong aud');
  await expectInvalid(forgeToken(HS256, { ...noIssAud, aud: 'bookapi' }), 'missing iss');
  await expectInvalid(forgeToken(HS256, { ...noIssAud, iss: 'bookapi' }), 'missing aud');
  await expectInvalid(forgeToken({ alg: 'HS256', typ: 'JWT' }, claims(sub, clock)), 'typ JWT');
  await expectInvalid(forgeToken({ alg: 'HS256' }, claims(sub, clock)), 'no typ');
});

test('exp missing or of the wrong type, nbf or iat in the future are refused', async (t) => {
  const { sub, clock, expectInvalid } = await setup(t);
  const now = Math.floor(clock.now() / 1000);
  const { exp: _exp, ...noExp } = claims(sub, clock);
  await expectInvalid(forgeToken(HS256, noExp), 'no exp');
  await expectInvalid(forgeToken(HS256, claims(sub, clock, { exp: String(now + 900) })), 'exp as string');
  await expectInvalid(forgeToken(HS256, claims(sub, clock, { exp: null })), 'exp null');
  await expectInvalid(forgeToken(HS256, claims(sub, clock, { nbf: now + 120 })), 'nbf 2 min ahead');
  await expectInvalid(forgeToken(HS256, claims(sub, clock, { iat: now + 120 })), 'iat 2 min ahead');
  await expectInvalid(forgeToken(HS256, claims(sub, clock, { sub: 12345 })), 'sub as number');
  await expectInvalid(forgeToken(HS256, claims(sub, clock, { sub: { $ne: null } })), 'sub as object');
});

test('malformed token shapes are refused: segments, padding, non-object JSON, huge, JWE-shaped', async (t) => {
  const { token, sub, clock, expectInvalid } = await setup(t);
  const [h, p, s] = token.split('.');
  const shapes: [string, string][] = [
    ['a.b', 'two segments'],
    [`${h}.${p}`, 'no signature segment'],
    [`${token}.${s}.${s}`, 'five segments'],
    [`${h}=.${p}.${s}`, 'base64 padding'],
    [`${h}.${p}.${s}=`, 'padded signature'],
    [`${h} .${p}.${s}`, 'space inside'],
    ['....', 'only dots'],
    [`${h}.${p}.+/${s?.slice(2)}`, 'plain base64 alphabet'],
    [forgeToken(HS256, 123), 'payload 123'],
    [forgeToken(HS256, []), 'payload []'],
    [forgeToken(HS256, 'just a string'), 'payload string'],
    [forgeToken(HS256, null), 'payload null'],
    [forgeToken('"HS256"', claims(sub, clock)), 'header is a string'],
    [`${Buffer.from('not json').toString('base64url')}.${p}.${s}`, 'header not JSON'],
    [`${h}.${p}.${'A'.repeat(10 * 1024)}`, '10 KiB token'],
    [
      `${Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM' })).toString('base64url')}..AAAA.BBBB.CCCC`,
      'JWE compact form',
    ],
    ['\u00e9\u00e9\u00e9.\u00e9.\u00e9', 'non-ASCII'],
  ];
  for (const [bad, why] of shapes) await expectInvalid(bad, why);
});

test('a token with an embedded jwk, jku, x5u, x5c or kid header is refused, and nothing is fetched', async (t) => {
  const { sub, clock, expectInvalid } = await setup(t);
  // A key server the attacker points at: it must never be contacted.
  let connections = 0;
  const keyServer = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
  t.after(() => keyServer.close());
  const { port } = keyServer.address() as net.AddressInfo;
  const attackerKey = 'attacker-secret-attacker-secret-attacker';
  const jwk = { kty: 'oct', k: Buffer.from(attackerKey).toString('base64url') };
  for (const extra of [
    { jwk },
    { jku: `http://127.0.0.1:${port}/jwks.json` },
    { x5u: `http://127.0.0.1:${port}/cert.pem` },
    { x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] },
    { kid: '../../../../dev/null' },
    { kid: "' OR 1=1 --" },
  ]) {
    await expectInvalid(
      forgeToken({ ...HS256, ...extra }, claims(sub, clock), attackerKey),
      JSON.stringify(extra),
    );
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(connections, 0, 'no outbound request to the attacker key server');
});

test('a valid token for a user that no longer exists answers 404 "User not found!"', async (t) => {
  const { app, db, token } = await setup(t);
  await db.deleteFrom('users').execute();
  const res = await getBooks(app, { 'x-access-token': token });
  assert.equal(res.status, 404);
  assert.equal(res.message, 'User not found!');
});

test('a token signed by another deployment (other secret) is refused', async (t) => {
  const a = await build(t);
  const b = await build(t, { JWT_SECRET: randomBytes(32).toString('hex') });
  const { token } = await signupAndLogin(a.app);
  await signupAndLogin(b.app);
  const res = await getBooks(b.app, { 'x-access-token': token });
  assert.equal(res.status, 401);
  assert.equal(res.message, 'Invalid token!');
});
