// biome-ignore-all lint/suspicious/noExplicitAny: migrations run against the schema as it was then, not today's types
import { type Kysely, sql } from 'kysely';
import { isPostgres } from '../dialect.js';

/**
 * Version rows for the data the servers cache: 'auth' (who a token's user is
 * and whether its session is live) and 'books'. Triggers give a row a new
 * random value in the same transaction as any change that could alter a
 * cached answer, whoever writes (a server, the CLI, an operator's SQL), so a
 * server that reads the version before the rows it caches can tell, exactly,
 * whether they are still current. Random, not counted: a restored backup
 * never brings back a value a server has already seen for other data.
 *
 * 'auth' moves when a user's identity, admin flag or disabled flag changes,
 * a user is deleted, or a session is revoked, changes or is deleted. New
 * users and sessions leave it alone (nothing cached can depend on a row that
 * did not exist), and so do logins' and refreshes' other writes (throttle
 * counters, refresh tokens, last_used_at): those happen all the time.
 */
const TRIGGERS: { table: string; name: string; events: string[] }[] = [
  { table: 'books', name: 'books', events: ['insert', 'update', 'delete'] },
  { table: 'users', name: 'auth', events: ['update of public_id, username, admin, disabled', 'delete'] },
  { table: 'sessions', name: 'auth', events: ['update of user_id, expires_at, revoked_at', 'delete'] },
];

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('data_versions')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('version', 'text', (c) => c.notNull())
    .execute();
  if (isPostgres(db)) return upPostgres(db);
  await sql`insert into data_versions (name, version) values
    ('auth', lower(hex(randomblob(8)))), ('books', lower(hex(randomblob(8))))`.execute(db);
  for (const { table, name, events } of TRIGGERS) {
    for (const event of events) {
      await sql
        .raw(
          `create trigger ${triggerName(table, event)} after ${event} on ${table} begin
             update data_versions set version = lower(hex(randomblob(8))) where name = '${name}';
           end`,
        )
        .execute(db);
    }
  }
}

/**
 * On PostgreSQL the new value is written at commit (deferred constraint
 * triggers), once per transaction and row: the version row's lock is then
 * the last one a transaction takes, held for an instant, so two transactions
 * never wait on each other through it (taken mid-transaction, a revocation
 * racing a refresh of the same session could deadlock).
 */
async function upPostgres(db: Kysely<any>): Promise<void> {
  await sql`insert into data_versions (name, version) values
    ('auth', md5(random()::text || clock_timestamp()::text)),
    ('books', md5(random()::text || clock_timestamp()::text))`.execute(db);
  await sql`create function bump_data_version() returns trigger language plpgsql as $$
    begin
      -- The first changed row of a transaction bumps; the rest find the flag set.
      if current_setting('bookapi.bumped_' || tg_argv[0], true) is distinct from '1' then
        perform set_config('bookapi.bumped_' || tg_argv[0], '1', true);
        update data_versions set version = md5(random()::text || clock_timestamp()::text)
          where name = tg_argv[0];
      end if;
      return null;
    end $$`.execute(db);
  for (const { table, name, events } of TRIGGERS) {
    await sql
      .raw(
        `create constraint trigger ${table}_data_version after ${events.join(' or ')} on ${table}
           deferrable initially deferred for each row execute function bump_data_version('${name}')`,
      )
      .execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    for (const { table } of TRIGGERS)
      await sql.raw(`drop trigger if exists ${table}_data_version on ${table}`).execute(db);
    await sql`drop function if exists bump_data_version()`.execute(db);
  } else {
    for (const { table, events } of TRIGGERS)
      for (const event of events)
        await sql.raw(`drop trigger if exists ${triggerName(table, event)}`).execute(db);
  }
  await db.schema.dropTable('data_versions').execute();
}

function triggerName(table: string, event: string): string {
  return `${table}_${event.split(' ')[0]}_data_version`;
}
