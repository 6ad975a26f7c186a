// biome-ignore-all lint/suspicious/noExplicitAny: migrations run against the schema as it was then, not today's types
import type { Kysely } from 'kysely';
import { usernameSkeleton } from '../../users/skeleton.js';
import { usernameKey } from '../../users/username.js';
import { isPostgres } from '../dialect.js';

/**
 * One identity per username (PRECIS UsernameCaseMapped) and one per look-alike
 * (UTS #39 skeleton), each held by a unique index, so that two signups racing
 * on `Alice` and `alice` cannot both win.
 *
 * Accounts made before this were compared byte for byte, so `Alice` and
 * `alice` (or a Cyrillic `аlice`) may both exist. The oldest (lowest id)
 * keeps its name; every younger one is renamed to `<name>~<id>` — nothing else
 * about it changes (password, books, sessions) — and a line on stderr names
 * each, so the operator can tell those users their new login name.
 * Reverting drops the columns and keeps the new names.
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const column of ['username_key', 'username_skeleton']) {
    // NOT NULL needs a default for existing rows; SQLite cannot drop it afterwards.
    await db.schema
      .alterTable('users')
      .addColumn(column, 'text', (c) => c.notNull().defaultTo(''))
      .execute();
  }

  const rows: { id: number; username: string }[] = await db
    .selectFrom('users')
    .select(['id', 'username'])
    .orderBy('id')
    .execute();
  const byKey = new Map<string, { id: number; username: string }>();
  const bySkeleton = new Map<string, { id: number; username: string }>();
  const names = new Map<number, { username: string; key: string; skeleton: string }>();
  const younger: { id: number; username: string; clash: string }[] = [];
  // Every account that keeps its name is known before any is renamed, so a new name never takes an existing one.
  for (const row of rows) {
    const key = usernameKey(row.username);
    const skeleton = usernameSkeleton(key);
    const older = byKey.get(key) ?? bySkeleton.get(skeleton);
    if (older) {
      const how = byKey.has(key) ? 'has the same username as' : 'looks like';
      younger.push({ ...row, clash: `${how} "${older.username}" (id ${older.id})` });
      continue;
    }
    byKey.set(key, row);
    bySkeleton.set(skeleton, row);
    names.set(row.id, { username: row.username, key, skeleton });
  }
  for (const row of younger) {
    for (let n = 1; ; n++) {
      const username = `${row.username}~${row.id}${n > 1 ? `~${n}` : ''}`;
      const key = usernameKey(username);
      const skeleton = usernameSkeleton(key);
      if (byKey.has(key) || bySkeleton.has(skeleton)) continue;
      byKey.set(key, row);
      bySkeleton.set(skeleton, row);
      names.set(row.id, { username, key, skeleton });
      process.stderr.write(
        `bookapi: migration 0005: user "${row.username}" (id ${row.id}) ${row.clash}: renamed to "${username}"\n`,
      );
      break;
    }
  }
  for (const [id, name] of names) {
    await db
      .updateTable('users')
      .set({ username: name.username, username_key: name.key, username_skeleton: name.skeleton })
      .where('id', '=', id)
      .execute();
  }

  if (isPostgres(db)) {
    await db.schema
      .alterTable('users')
      .alterColumn('username_key', (c) => c.dropDefault())
      .alterColumn('username_skeleton', (c) => c.dropDefault())
      .execute();
  }
  await db.schema
    .createIndex('users_username_key_unique')
    .on('users')
    .column('username_key')
    .unique()
    .execute();
  await db.schema
    .createIndex('users_username_skeleton_unique')
    .on('users')
    .column('username_skeleton')
    .unique()
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('users_username_skeleton_unique').execute();
  await db.schema.dropIndex('users_username_key_unique').execute();
  await db.schema.alterTable('users').dropColumn('username_skeleton').execute();
  await db.schema.alterTable('users').dropColumn('username_key').execute();
}
