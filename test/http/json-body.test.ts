// JSON bodies must be UTF-8 (RFC 8259 §8.1): broken bytes are refused, never stored as U+FFFD.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { body, build, loginPair, ORIGINAL_USER, signupAndLogin } from '../helpers.js';
import { listen, rawRequest } from './wire.js';

/** JSON text with raw bytes spliced in where `<>` stands. */
const withBytes = (json: string, bytes: number[]) => {
  const [before = '', after = ''] = json.split('<>');
  return Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
};

const BROKEN: [string, number[]][] = [
  ['a lead byte without its continuation', [0xc3, 0x28]],
  ['a lone continuation byte', [0x80]],
  ['an overlong "/"', [0xc0, 0xaf]],
  ['an encoded surrogate (CESU-8)', [0xed, 0xa0, 0x80]],
  ['a sequence cut short', [0xe2, 0x82]],
  ['a byte that never occurs in UTF-8', [0xff]],
  ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
];

const INVALID_UTF8 = { message: 'Request body is not valid UTF-8', code: 'INVALID_JSON' };

test('a signup with invalid UTF-8 is refused with 400 and nothing is stored', async (t) => {
  const { app, db } = await build(t);
  for (const [name, bytes] of BROKEN) {
    const res = await app.inject({
      method: 'POST',
      url: '/signup',
      headers: { 'content-type': 'application/json' },
      payload: withBytes(`{"username":"ab<>cd","password":"${ORIGINAL_USER.password}"}`, bytes),
    });
    assert.equal(res.statusCode, 400, `${name}: ${res.body}`);
    assert.deepEqual(body(res), INVALID_UTF8, name);
    // Inside the password, where no other rule would catch the replacement character.
    const inPassword = await app.inject({
      method: 'POST',
      url: '/signup',
      headers: { 'content-type': 'application/json' },
      payload: withBytes('{"username":"someone","password":"long enough <> password"}', bytes),
    });
    assert.equal(inPassword.statusCode, 400, `${name} in a password: ${inPassword.body}`);
  }
  assert.deepEqual(await db.selectFrom('users').select('username').execute(), []);
});

test('a book with invalid UTF-8 is refused with 400 and nothing is stored', async (t) => {
  const { app, db } = await build(t);
  const { headers } = await signupAndLogin(app);
  for (const [name, bytes] of BROKEN) {
    for (const url of ['/bookapi/books', '/bookapi/addbook']) {
      const res = await app.inject({
        method: 'POST',
        url,
        headers: { ...headers, 'content-type': 'application/json' },
        payload: withBytes('{"title":"Caf<>","author":"A"}', bytes),
      });
      assert.equal(res.statusCode, 400, `${url} ${name}: ${res.body}`);
      assert.deepEqual(body(res), INVALID_UTF8, name);
    }
  }
  assert.deepEqual(await db.selectFrom('books').select('title').execute(), []);
});

test('invalid UTF-8 in a login is refused like malformed JSON', async (t) => {
  const { app } = await build(t);
  await loginPair(app);
  const res = await app.inject({
    method: 'POST',
    url: '/login',
    headers: { 'content-type': 'application/json' },
    payload: withBytes(
      `{"username":"${ORIGINAL_USER.username}","password":"${ORIGINAL_USER.password}<>"}`,
      [0xc3],
    ),
  });
  assert.equal(res.statusCode, 400, res.body);
  assert.deepEqual(body(res), INVALID_UTF8);
});

test('valid UTF-8 is kept exactly, even split across chunks on the wire, and a BOM is ignored', async (t) => {
  const { app, db } = await build(t);
  const { token } = await signupAndLogin(app);
  const port = await listen(app);
  const title = 'Café 👩‍🚀 東京';
  const json = Buffer.from(`\ufeff{"title":"${title}","author":"Zoë"}`);
  // Chunks of 3 bytes cut through the multi-byte characters.
  const chunks: Buffer[] = [];
  for (let i = 0; i < json.length; i += 3) chunks.push(json.subarray(i, i + 3));
  const chunked = Buffer.concat([
    ...chunks.flatMap((c) => [Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')]),
    Buffer.from('0\r\n\r\n'),
  ]);
  const head =
    'POST /bookapi/books HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n' +
    `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nx-access-token: ${token}\r\n\r\n`;
  const res = await rawRequest(port, Buffer.concat([Buffer.from(head), chunked]));
  assert.equal(res.status, 201, res.body);
  assert.equal(JSON.parse(res.body).title, title);
  const stored = await db.selectFrom('books').select(['title', 'author']).execute();
  assert.deepEqual(stored, [{ title, author: 'Zoë' }]);
});

test('a JSON body labelled with another charset is 415; utf-8 in any spelling is fine', async (t) => {
  const { app } = await build(t);
  for (const charset of ['latin1', 'utf-16', 'iso-8859-1']) {
    const res = await app.inject({
      method: 'POST',
      url: '/signup',
      headers: { 'content-type': `application/json; charset=${charset}` },
      payload: JSON.stringify({ username: `c${charset.replace(/\W/g, '')}`, password: 'testing_p@ssword' }),
    });
    assert.equal(res.statusCode, 415, charset);
    assert.equal(JSON.parse(res.body).code, 'UNSUPPORTED_MEDIA_TYPE');
  }
  for (const [i, charset] of ['utf-8', 'UTF-8', '"utf-8"', 'utf8'].entries()) {
    const res = await app.inject({
      method: 'POST',
      url: '/signup',
      headers: { 'content-type': `application/json; charset=${charset}` },
      payload: JSON.stringify({ username: `utf${i}user`, password: 'testing_p@ssword' }),
    });
    assert.equal(res.statusCode, 201, `${charset}: ${res.body}`);
  }
});

test('a compressed body is 415 naming Content-Encoding; identity is fine', async (t) => {
  const { app, db } = await build(t);
  const payload = JSON.stringify({ username: 'squeezed', password: 'testing_p@ssword' });
  for (const coding of ['gzip', 'br', 'deflate, gzip']) {
    const res = await app.inject({
      method: 'POST',
      url: '/signup',
      headers: { 'content-type': 'application/json', 'content-encoding': coding },
      payload: gzipSync(payload),
    });
    assert.equal(res.statusCode, 415, coding);
    assert.equal(JSON.parse(res.body).code, 'UNSUPPORTED_MEDIA_TYPE');
    assert.match(JSON.parse(res.body).message, /Content-Encoding/);
  }
  assert.equal((await db.selectFrom('users').select('id').execute()).length, 0);
  const plain = await app.inject({
    method: 'POST',
    url: '/signup',
    headers: { 'content-type': 'application/json', 'content-encoding': 'identity' },
    payload,
  });
  assert.equal(plain.statusCode, 201);
});
