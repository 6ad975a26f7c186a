// Conditional requests on a book (RFC 9110 §13): ETag on every answer that carries one book,
// If-None-Match → 304, If-Match / If-Unmodified-Since on PATCH and DELETE → 412 when the book changed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { body, build, signupAndLogin } from '../helpers.js';

async function setup(t: Parameters<typeof build>[0]) {
  const ctx = await build(t);
  const { headers } = await signupAndLogin(ctx.app);
  const created = await ctx.app.inject({
    method: 'POST',
    url: '/bookapi/books',
    headers,
    payload: { title: 'Dune', author: 'Frank Herbert' },
  });
  assert.equal(created.statusCode, 201);
  const id = body<{ id: number }>(created).id;
  const url = `/bookapi/books/${id}`;
  const get = (extra: Record<string, string> = {}) =>
    ctx.app.inject({ method: 'GET', url, headers: { ...headers, ...extra } });
  const patch = (payload: object, extra: Record<string, string> = {}) =>
    ctx.app.inject({ method: 'PATCH', url, headers: { ...headers, ...extra }, payload });
  const remove = (extra: Record<string, string> = {}) =>
    ctx.app.inject({ method: 'DELETE', url, headers: { ...headers, ...extra } });
  return { ...ctx, headers, url, created, get, patch, remove };
}

test('GET carries an ETag (the one POST gave); If-None-Match with it answers 304 without a body', async (t) => {
  const { get, created } = await setup(t);
  const first = await get();
  const etag = String(first.headers.etag);
  assert.match(etag, /^"[\w-]{22}"$/);
  assert.equal(created.headers.etag, etag);
  for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
    const res = await get({ 'if-none-match': header });
    assert.equal(res.statusCode, 304, header);
    assert.equal(res.body, '');
    assert.equal(res.headers.etag, etag);
  }
  const other = await get({ 'if-none-match': '"something else"' });
  assert.equal(other.statusCode, 200);
  assert.equal(body(other).title, 'Dune');
});

test('PATCH with If-Match: the current ETag applies and answers the new one; a stale or weak one is 412 and changes nothing', async (t) => {
  const { get, patch } = await setup(t);
  const etag = String((await get()).headers.etag);
  const changed = await patch({ title: 'Dune Messiah' }, { 'if-match': etag });
  assert.equal(changed.statusCode, 200);
  const next = String(changed.headers.etag);
  assert.notEqual(next, etag);
  assert.equal((await get()).headers.etag, next);

  for (const stale of [etag, `W/${next}`, '"nope"']) {
    const res = await patch({ title: 'Children of Dune' }, { 'if-match': stale });
    assert.equal(res.statusCode, 412, stale);
    assert.equal(body(res).code, 'PRECONDITION_FAILED');
  }
  assert.equal(body(await get()).title, 'Dune Messiah');
  assert.equal((await patch({ author: 'F. Herbert' }, { 'if-match': '*' })).statusCode, 200);
  assert.equal(
    (await patch({ author: 'Frank Herbert' }, { 'if-match': `"x", ${String((await get()).headers.etag)}` }))
      .statusCode,
    200,
  );
});

test('two clients that read the same version: exactly one change wins, the other gets 412', async (t) => {
  const { get, patch } = await setup(t);
  const etag = String((await get()).headers.etag);
  const answers = await Promise.all([
    patch({ title: 'Mine' }, { 'if-match': etag }),
    patch({ author: 'Theirs' }, { 'if-match': etag }),
  ]);
  assert.deepEqual(answers.map((r) => r.statusCode).sort(), [200, 412]);
});

test('If-Unmodified-Since: an earlier date is 412, a later one applies, an invalid one is ignored', async (t) => {
  const { patch, clock } = await setup(t);
  const before = new Date(clock.now() - 3_600_000).toUTCString();
  const res = await patch({ title: 'Too late' }, { 'if-unmodified-since': before });
  assert.equal(res.statusCode, 412);
  const after = new Date(clock.now() + 3_600_000).toUTCString();
  assert.equal((await patch({ title: 'In time' }, { 'if-unmodified-since': after })).statusCode, 200);
  assert.equal((await patch({ title: 'Whenever' }, { 'if-unmodified-since': 'yesterday' })).statusCode, 200);
});

test('DELETE with a stale If-Match is 412 and the book stays; with the current one it goes; a missing book is 404 first', async (t) => {
  const { get, patch, remove, app, headers } = await setup(t);
  const etag = String((await get()).headers.etag);
  await patch({ title: 'Changed meanwhile' });
  const refused = await remove({ 'if-match': etag });
  assert.equal(refused.statusCode, 412);
  assert.equal((await get()).statusCode, 200);
  const current = String((await get()).headers.etag);
  assert.equal((await remove({ 'if-match': current })).statusCode, 200);
  assert.equal((await get()).statusCode, 404);
  const missing = await app.inject({
    method: 'DELETE',
    url: '/bookapi/books/999999',
    headers: { ...headers, 'if-match': current },
  });
  assert.equal(missing.statusCode, 404);
});
