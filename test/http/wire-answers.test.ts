// What Node would answer by itself (an odd Expect, no Host, CONNECT) gets the API's JSON shape and headers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../helpers.js';
import { listen, rawRequest } from './wire.js';

const JSON_TYPE = /^application\/json/;

test('an Expect other than 100-continue: 417 JSON with the security headers', async (t) => {
  const { app } = await build(t);
  const port = await listen(app);
  const res = await rawRequest(
    port,
    'POST /bookapi/books HTTP/1.1\r\nHost: localhost\r\nExpect: 200-ok\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
  );
  assert.equal(res.status, 417);
  assert.match(res.headers['content-type'] ?? '', JSON_TYPE);
  assert.equal(JSON.parse(res.body).code, 'EXPECTATION_FAILED');
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
});

test('HTTP/1.1 without Host: 400 JSON; HTTP/1.0 without Host is served', async (t) => {
  const { app } = await build(t);
  const port = await listen(app);
  const res = await rawRequest(port, 'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n');
  assert.equal(res.status, 400);
  assert.match(res.headers['content-type'] ?? '', JSON_TYPE);
  assert.deepEqual(JSON.parse(res.body), { message: 'The Host header is required', code: 'BAD_REQUEST' });
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  const old = await rawRequest(port, 'GET /health HTTP/1.0\r\n\r\n');
  assert.equal(old.status, 200);
});

test('CONNECT: 405 JSON instead of a dropped connection', async (t) => {
  const { app } = await build(t);
  const port = await listen(app);
  for (const target of ['/bookapi/books', 'example.com:443']) {
    const res = await rawRequest(port, `CONNECT ${target} HTTP/1.1\r\nHost: example.com:443\r\n\r\n`);
    assert.equal(res.status, 405, target);
    assert.equal(JSON.parse(res.body).code, 'METHOD_NOT_ALLOWED');
  }
  // The server goes on.
  assert.equal(
    (await rawRequest(port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status,
    200,
  );
});
