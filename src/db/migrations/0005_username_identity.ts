// biome-ignore-all lint/suspicious/noExplicitAny: migrations run against the schema as it was then, not today's types
import type { Kysely } from 'kysely';
import { usernameSkeletons } from '../../users/skeleton.js';
import { usernameKey } from '../../users/username.js';
import { isPostgres } from '../dialect.js';

const COLUMNS = ['username_key', 'username_skeleton_lower', 'username_skeleton_upper'] as const;

type Identity = { username: string; key: string; lower: string; upper: string };
type Holder = { id: number; username: string };

function identity(username: string): Identity {
  const key = usernameKey(username);
  return { username, key, ...usernameSkeletons(key) };
}

/**
 * One identity per username (PRECIS UsernameCaseMapped) and one per look-alike
 * (UTS #39 skeletons, of the name in small letters and in capitals), each held
 * by a unique index, so that two signups racing on `Alice` and `alice`, or on
 * `robert` and Cyrillic `гobert`, cannot both win.
 *
 * Accounts made before this were compared byte for byte, so `Alice` and
 * `alice` (or a Cyrillic `аlice`) may both exist. The oldest (lowest id)
 * keeps its name; every younger one is renamed to `<name>~<id>` — nothing else
 * about it changes (password, books, sessions) — and a line on stderr names
 * each, so the operator can tell those users their new login name.
 * Reverting drops the columns and keeps the new names.
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const column of COLUMNS) {
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
  // One map per unique index: an identity is taken if any of its columns is.
  const held = {
    key: new Map<string, Holder>(),
    lower: new Map<string, Holder>(),
    upper: new Map<string, Holder>(),
  };
  const holder = (name: Identity) =>
    held.key.get(name.key) ?? held.lower.get(name.lower) ?? held.upper.get(name.upper);
  const hold = (name: Identity, row: Holder) => {
    held.key.set(name.key, row);
    held.lower.set(name.lower, row);
    held.upper.set(name.upper, row);
  };
  const names = new Map<number, Identity>();
  const younger: { id: number; username: string; clash: string }[] = [];
  // Every account that keeps its name is known before any is renamed, so a new name never takes an existing one.
  for (const row of rows) {
    const name = identity(row.username);
    const older = holder(name);
    if (older) {
      const how = held.key.has(name.key) ? 'has the same username as' : 'looks like';
      younger.push({ ...row, clash: `${how} "${older.username}" (id ${older.id})` });
      continue;
    }
    hold(name, row);
    names.set(row.id, name);
  }
  for (const row of younger) {
    for (let n = 1; ; n++) {
      const name = identity(`${row.username}~${row.id}${n > 1 ? `~${n}` : ''}`);
      if (holder(name)) continue;
      hold(name, row);
      names.set(row.id, name);
      process.stderr.write(
        `bookapi: migration 0005: user "${row.username}" (id ${row.id}) ${row.clash}: renamed to "${name.username}"\n`,
      );
      break;
    }
  }
  for (const [id, name] of names) {
    await db
      .updateTable('users')
      .set({
        username: name.username,
        username_key: name.key,
        username_skeleton_lower: name.lower,
        username_skeleton_upper: name.upper,
      })
      .where('id', '=', id)
      .execute();
  }

  for (const column of COLUMNS) {
    if (isPostgres(db)) {
      await db.schema
        .alterTable('users')
        .alterColumn(column, (c) => c.dropDefault())
        .execute();
    }
    await db.schema.createIndex(`users_${column}_unique`).on('users').column(column).unique().execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of [...COLUMNS].reverse()) {
    await db.schema.dropIndex(`users_${column}_unique`).execute();
    await db.schema.alterTable('users').dropColumn(column).execute();
  }
}
