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

/** Every table once migrated; on SQLite the book search index is an FTS5 table and its shadow tables. */
const LATEST = [
  'audit_events',
  'books',
  ...(TEST_DB === 'sqlite'
    ? ['books_fts', 'books_fts_config', 'books_fts_data', 'books_fts_docsize', 'books_fts_idx']
    : []),
  'data_versions',
  'job_leases',
  'personal_access_tokens',
  'refresh_tokens',
  'sessions',
  'throttle_counters',
  'users',
];

test('migrations apply, are idempotent, and revert', async (t) => {
  const db = createDatabase(parseDatabaseUrl(await testDatabaseUrl(t)));
  t.after(() => db.destroy());
  const first = await migrateToLatest(db);
  assert.deepEqual(
    first.results?.map((r) => [r.migrationName, r.status]),
    [
      ['0001_users_and_books', 'Success'],
      ['0002_sessions', 'Success'],
      ['0003_bigint_ids', 'Success'],
      ['0004_one_live_refresh_token', 'Success'],
      ['0005_username_identity', 'Success'],
      ['0006_throttle_counters', 'Success'],
      ['0007_data_versions', 'Success'],
      ['0008_devices_and_audit', 'Success'],
      ['0009_personal_access_tokens', 'Success'],
      ['0010_book_search', 'Success'],
    ],
  );
  assert.deepEqual(await tables(db), LATEST);
  assert.deepEqual((await migrateToLatest(db)).results, []);
  await migrateDown(db); // 0010_book_search drops a column, and its FTS5 table and triggers on SQLite
  await migrateDown(db); // 0009_personal_access_tokens
  await migrateDown(db); // 0008_devices_and_audit
  await migrateDown(db); // 0007_data_versions drops its table and triggers
  await migrateDown(db); // 0006_throttle_counters drops its table
  await migrateDown(db); // 0005_username_identity drops three columns and their indexes
  await migrateDown(db); // 0004_one_live_refresh_token drops an index only
  await migrateDown(db); // 0003_bigint_ids changes column types only
  assert.deepEqual(await tables(db), ['books', 'refresh_tokens', 'sessions', 'users']);
  await migrateDown(db);
  assert.deepEqual(await tables(db), ['books', 'users']);
  await migrateDown(db);
  assert.deepEqual(await tables(db), []);
  await migrateToLatest(db);
  assert.deepEqual(await tables(db), LATEST);
});

test('the database enforces unique usernames and unique title+author keys', async (t) => {
  const db = createDatabase(parseDatabaseUrl(await testDatabaseUrl(t)));
  t.after(() => db.destroy());
  await migrateToLatest(db);
  const user = {
    public_id: 'p1',
    username: 'u',
    username_key: 'u',
    username_skeleton_lower: 'u',
    username_skeleton_upper: 'u',
    password_hash: 'h',
    admin: 0,
    created_at: 'now',
  };
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

test('ids and the columns that point at them are 64-bit on both databases', async (t) => {
  const db = createDatabase(parseDatabaseUrl(await testDatabaseUrl(t)));
  t.after(() => db.destroy());
  await migrateToLatest(db);
  // Every id and *_id column: an integer id the API accepts (15 digits) must fit.
  const { rows } =
    TEST_DB === 'postgres'
      ? await sql<{
          name: string;
          type: string;
        }>`select table_name || '.' || column_name as name, data_type as type
          from information_schema.columns where table_schema = current_schema()
          and table_name not like 'kysely_%' and (column_name = 'id' or column_name like '%\\_id')
          and data_type in ('smallint', 'integer', 'bigint') order by 1`.execute(db)
      : await sql<{ name: string; type: string }>`select m.name || '.' || c.name as name, c.type as type
          from sqlite_master m, pragma_table_info(m.name) c
          where m.type = 'table' and m.name not like 'sqlite_%' and m.name not like 'kysely_%'
          and (c.name = 'id' or c.name like '%\\_id' escape '\\') and upper(c.type) like '%INT%' order by 1`.execute(
          db,
        );
  for (const table of ['books.id', 'books.owner_id', 'sessions.user_id', 'users.id']) {
    assert.ok(
      rows.some((r) => r.name === table),
      `${table} is listed`,
    );
  }
  // SQLite's INTEGER is always 64-bit; PostgreSQL's integer is 32-bit.
  const narrow = rows.filter((r) => TEST_DB === 'postgres' && r.type !== 'bigint');
  assert.deepEqual(narrow, []);
});
