// Migration 0004: at most one live refresh token per session, enforced by the database.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Migrator, sql } from 'kysely';
import { parseDatabaseUrl } from '../../src/config.js';
import { createDatabase, type Db } from '../../src/db/database.js';
import { isPostgres } from '../../src/db/dialect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import * as m0001 from '../../src/db/migrations/0001_users_and_books.js';
import * as m0002 from '../../src/db/migrations/0002_sessions.js';
import { testDatabaseUrl } from '../helpers.js';

/** The schema as versions before 0004 left it. */
async function migrateToSessions(db: Db): Promise<void> {
  const schema = isPostgres(db)
    ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
    : undefined;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ '0001_users_and_books': m0001, '0002_sessions': m0002 }) },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}

async function session(db: Db, id: string, userId: number, tokens: (number | null)[], revokedAt?: number) {
  await db
    .insertInto('sessions')
    .values({
      id,
      user_id: userId,
      created_at: 1,
      last_used_at: 1,
      expires_at: 9e12,
      revoked_at: revokedAt ?? null,
      // The schema as it was before 0008 added public ids.
    } as never)
    .execute();
  for (const [i, usedAt] of tokens.entries())
    await db
      .insertInto('refresh_tokens')
      .values({ token_hash: `${id}-${i}`, session_id: id, created_at: 1, used_at: usedAt })
      .execute();
}

test('sessions forked by earlier versions end; then a second live token is refused', async (t) => {
  const db = createDatabase(parseDatabaseUrl(await testDatabaseUrl(t)));
  t.after(() => db.destroy());
  await migrateToSessions(db);
  // Raw SQL: the users table as 0002 left it, whatever columns later migrations add.
  await sql`insert into users (public_id, username, password_hash, admin, created_at)
    values ('p1', 'u', 'h', 0, 'now')`.execute(db);
  const { id: userId } = await db.selectFrom('users').select('id').executeTakeFirstOrThrow();
  await session(db, 'forked', userId, [5, null, null, null]);
  await session(db, 'linear', userId, [5, 6, null]);
  await migrateToLatest(db);

  const sessions = await db.selectFrom('sessions').select(['id', 'revoked_at']).orderBy('id').execute();
  assert.equal(sessions[0]?.id, 'forked');
  assert.notEqual(sessions[0]?.revoked_at, null, 'a forked session ends');
  assert.equal(sessions[1]?.revoked_at, null, 'a session with one chain goes on');
  const live = await db
    .selectFrom('refresh_tokens')
    .select('token_hash')
    .where('used_at', 'is', null)
    .execute();
  assert.deepEqual(
    live.map((r) => r.token_hash),
    ['linear-2'],
  );

  await assert.rejects(
    db
      .insertInto('refresh_tokens')
      .values({ token_hash: 'linear-3', session_id: 'linear', created_at: 2, used_at: null })
      .execute(),
    /UNIQUE|duplicate key/,
  );
  // A spent token alongside the live one is fine.
  await db
    .insertInto('refresh_tokens')
    .values({ token_hash: 'linear-4', session_id: 'linear', created_at: 2, used_at: 2 })
    .execute();
});
