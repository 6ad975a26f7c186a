// Inputs found by trying to break the API: each must get a clear 4xx, never a 500.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addBook,
  body,
  build,
  loginPair,
  makeAdmin,
  ORIGINAL_USER,
  signup,
  signupAndLogin,
} from '../helpers.js';

test('malformed percent-encoding in the path gets our JSON shape and security headers', async (t) => {
  const { app } = await build(t);
  for (const url of ['/bookapi/books/%E0%A4%A', '/%', '/bookapi/books/%C0%AF']) {
    const res = await app.inject({ method: 'GET', url });
    assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${url}: ${res.statusCode}`);
    assert.deepEqual(Object.keys(body(res)).sort(), ['code', 'message'], url);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
    assert.equal(res.headers['cache-control'], 'no-store', url);
  }
});

test('invisible, control or broken text is not a title, author or username', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  for (const [title, author] of [
    ['\u200b', 'A'],
    ['\u0000', 'A'],
    ['T', '\u0001'],
    ['a\udc00', 'A'],
    ['ok\u0007bell', 'A'],
  ]) {
    const res = await app.inject({
      method: 'POST',
      url: '/bookapi/books',
      headers,
      payload: { title, author },
    });
    assert.equal(res.statusCode, 400, JSON.stringify(title));
    assert.equal(body(res).message, 'Invalid input!');
  }
  // Emoji with joiners are visible text.
  assert.equal(
    (
      await app.inject({
        method: 'POST',
        url: '/bookapi/books',
        headers,
        payload: { title: '👩‍🚀 Space', author: 'A' },
      })
    ).statusCode,
    201,
  );
  await signup(app, { username: 'bob', password: ORIGINAL_USER.password });
  for (const username of ['bob\u200b', 'bob\u202e', '\u200bbob', 'ab\ud800c', 'bo\u0000b']) {
    assert.equal(
      (await signup(app, { username, password: ORIGINAL_USER.password })).statusCode,
      400,
      JSON.stringify(username),
    );
  }
});

test('usernames are stored in NFC: composed and decomposed spellings are one user', async (t) => {
  const { app } = await build(t);
  assert.equal(
    (await signup(app, { username: 'Jos\u00e9', password: ORIGINAL_USER.password })).statusCode,
    201,
  );
  assert.equal(
    (await signup(app, { username: 'Jose\u0301', password: ORIGINAL_USER.password })).statusCode,
    409,
  );
  const login = await app.inject({
    method: 'POST',
    url: '/login',
    payload: { username: 'Jose\u0301', password: ORIGINAL_USER.password },
  });
  assert.equal(login.statusCode, 201);
});

test('titles differing only in inner spacing are the same book', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  await addBook(app, headers, { title: 'The Hobbit', author: 'Tolkien' });
  const res = await app.inject({
    method: 'POST',
    url: '/bookapi/books',
    headers,
    payload: { title: 'The  Hobbit', author: 'tolkien ' },
  });
  assert.equal(res.statusCode, 409);
});

test('page sizes are digits only, like ids', async (t) => {
  const { app } = await build(t);
  const { headers } = await signupAndLogin(app);
  for (const limit of ['0x10', '1e3', '%201', '1.0', '+5', '1001', '0']) {
    const res = await app.inject({ method: 'GET', url: `/bookapi/books?limit=${limit}`, headers });
    assert.equal(res.statusCode, 400, limit);
  }
  assert.equal(
    (await app.inject({ method: 'GET', url: '/bookapi/books?limit=1000', headers })).statusCode,
    200,
  );
});

test('forbidden JSON keys are named as such', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({
    method: 'POST',
    url: '/signup',
    headers: { 'content-type': 'application/json' },
    payload: '{"username":"x","password":"y","__proto__":{"admin":true}}',
  });
  assert.equal(res.statusCode, 400);
  assert.match(String(body(res).message), /forbidden __proto__/);
});

test('the last active admin cannot delete their own account either', async (t) => {
  const { app, db } = await build(t);
  await loginPair(app, 'root');
  await makeAdmin(db, 'root');
  const root = await loginPair(app, 'root');
  const res = await app.inject({
    method: 'DELETE',
    url: '/me',
    headers: root.headers,
    payload: { password: ORIGINAL_USER.password },
  });
  assert.equal(res.statusCode, 409);
  assert.equal(body(res).code, 'LAST_ADMIN');
  await loginPair(app, 'second');
  await makeAdmin(db, 'second');
  const again = await app.inject({
    method: 'DELETE',
    url: '/me',
    headers: root.headers,
    payload: { password: ORIGINAL_USER.password },
  });
  assert.equal(again.statusCode, 200, 'with another admin left, it may go');
});

test('logins racing the deletion of their account never answer 5xx', async (t) => {
  const { app } = await build(t, { LOGIN_MAX_FAILURES: '1000', LOGIN_IP_MAX_FAILURES: '1000' });
  for (let round = 0; round < 3; round++) {
    const username = `doomed${round}`;
    const pair = await loginPair(app, username);
    const answers = await Promise.all([
      ...Array.from({ length: 15 }, () =>
        app.inject({
          method: 'POST',
          url: '/login',
          payload: { username, password: ORIGINAL_USER.password },
        }),
      ),
      app.inject({
        method: 'DELETE',
        url: '/me',
        headers: pair.headers,
        payload: { password: ORIGINAL_USER.password },
      }),
    ]);
    for (const res of answers)
      assert.ok(res.statusCode < 500, `round ${round}: ${res.statusCode} ${res.body}`);
  }
});
