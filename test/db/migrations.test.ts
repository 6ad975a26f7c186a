import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { parseDatabaseUrl } from '../../src/config.js';
import { createDatabase } from '../../src/db/database.js';
import { migrateDown, migrateToLatest } from '../../src/db/migrate.js';
import { TEST_DB, testDatabaseUrl } from '../helpers.js';

async function tables(db: ReturnType<typeof createDatabase>): Promise<string[]> {
  if (TEST_DB === 'postgres') {
    const { rows } = await sql<{ name: string }>`select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_name not like 'kysely_%' order by table_name`.execute(
      db,
    );
    return rows.map((r) => r.name);
  }
  const { rows } = await sql<{
    name: string;
  }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name`.execute(
    db,
  );
  return rows.map((r) => r.name);
}

test('migrations apply, are idempotent, and revert', async (t) => {
  const db = createDatabase(parseDatabaseUrl(await testDatabaseUrl(t)));
  t.after(() => db.destroy());
  const first = await migrateToLatest(db);
  assert.deepEqual(
    first.results?.map((r) => [r.migrationName, r.status]),
    [
      ['0001_users_and_books', 'Success'],
      ['0002_sessions', 'Success'],
    ],
  );
  assert.deepEqual(await tables(db), ['books', 'refresh_tokens', 'sessions', 'users']);
  assert.deepEqual((await migrateToLatest(db)).results, []);
  await migrateDown(db);
  assert.deepEqual(await tables(db), ['books', 'users']);
  await migrateDown(db);
  assert.deepEqual(await tables(db), []);
  await migrateToLatest(db);
  assert.deepEqual(await tables(db), ['books', 'refresh_tokens', 'sessions', 'users']);
});

test('the database enforces unique usernames and unique title+author keys', async (t) => {
  const db = createDatabase(parseDatabaseUrl(await testDatabaseUrl(t)));
  t.after(() => db.destroy());
  await migrateToLatest(db);
  const user = { public_id: 'p1', username: 'u', password_hash: 'h', admin: 0, created_at: 'now' };
  await db.insertInto('users').values(user).execute();
  await assert.rejects(
    db
      .insertInto('users')
      .values({ ...user, public_id: 'p2' })
      .execute(),
    /UNIQUE|duplicate key/,
  );
  const book = {
    title: 'T',
    author: 'A',
    title_key: 't',
    author_key: 'a',
    owner_id: 1,
    created_at: 'now',
    updated_at: 'now',
  };
  await db.insertInto('books').values(book).execute();
  await assert.rejects(
    db
      .insertInto('books')
      .values({ ...book, title: ' t ' })
      .execute(),
    /UNIQUE|duplicate key/,
  );
  // Deleting a user deletes their books (foreign keys are on).
  await db.deleteFrom('users').execute();
  assert.equal((await db.selectFrom('books').select('id').execute()).length, 0);
});
