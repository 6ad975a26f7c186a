// biome-ignore-all lint/suspicious/noExplicitAny: migrations run against the schema as it was then, not today's types
import { type Kysely, sql } from 'kysely';
import { searchText } from '../../books/search.js';
import { isPostgres } from '../dialect.js';

/** Rows folded per statement, and per transaction on SQLite. */
const BATCH = 1000;

/**
 * Book search (src/books/search.ts). `books.search_text` holds title and
 * author folded in JavaScript — the same function folds the query — so both
 * databases compare the same strings and answer the same. Existing rows are
 * folded here, in batches.
 *
 * The index behind `search_text like '%word%'`: on SQLite an FTS5 table with
 * the trigram tokenizer over search_text (external content: it stores only
 * the index), kept in step by triggers, whoever writes; on PostgreSQL a GIN
 * trigram index (pg_trgm). Without pg_trgm the migration still succeeds and
 * searches scan the table; it says so on stderr.
 *
 * On PostgreSQL the one index on owner_id becomes (owner_id, id), which
 * serves `?owner=me` pages in id order as well as the cascade on users.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) await upPostgres(db);
  else await upSqlite(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    await sql`drop index if exists books_search_text_trgm`.execute(db);
    await db.schema.createIndex('books_owner_id').on('books').column('owner_id').execute();
    await db.schema.dropIndex('books_owner_id_id').execute();
  } else {
    for (const event of ['insert', 'update', 'delete'])
      await sql.raw(`drop trigger if exists books_fts_${event}`).execute(db);
    await sql`drop table if exists books_fts`.execute(db);
  }
  await db.schema.alterTable('books').dropColumn('search_text').execute();
}

/**
 * SQLite runs a migration outside any transaction, so each batch is one
 * short write transaction of its own and a server on the same file keeps
 * answering between them. Written to be run again after an interruption:
 * every step checks what is already there, and only rows still without
 * search_text are folded.
 */
async function upSqlite(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ name: string }>`select name from pragma_table_info('books')`.execute(db);
  if (!rows.some((c) => c.name === 'search_text'))
    await db.schema.alterTable('books').addColumn('search_text', 'text').execute();
  await sql`create virtual table if not exists books_fts
    using fts5(search_text, content = 'books', content_rowid = 'id', tokenize = 'trigram')`.execute(db);
  // The index holds exactly the rows whose search_text is not null. An FTS5 'delete' must
  // name a row the index has, with the values it was indexed with: so the old value is
  // removed only when there was one, and rows of before this migration (null) were never in.
  await sql`create trigger if not exists books_fts_insert after insert on books
    when new.search_text is not null begin
      insert into books_fts (rowid, search_text) values (new.id, new.search_text);
    end`.execute(db);
  await sql`create trigger if not exists books_fts_delete after delete on books
    when old.search_text is not null begin
      insert into books_fts (books_fts, rowid, search_text) values ('delete', old.id, old.search_text);
    end`.execute(db);
  await sql`create trigger if not exists books_fts_update after update of search_text on books begin
      insert into books_fts (books_fts, rowid, search_text)
        select 'delete', old.id, old.search_text where old.search_text is not null;
      insert into books_fts (rowid, search_text)
        select new.id, new.search_text where new.search_text is not null;
    end`.execute(db);
  // The triggers exist before the first batch: every row folded from here on is indexed
  // in the same transaction, and so is every book another process writes meanwhile.
  for (let after = 0; ; ) {
    // IMMEDIATE: the rows read are the rows written, even with another writer on the file.
    await sql`begin immediate`.execute(db);
    try {
      after = await foldBatch(db, after);
      await sql`commit`.execute(db);
    } catch (error) {
      await sql`rollback`.execute(db);
      throw error;
    }
    if (after === 0) break;
  }
}

/**
 * PostgreSQL migrates in one transaction (Kysely's), and adding the column
 * already locks the table until it commits: batches bound the memory and the
 * size of each statement, nothing more is to be gained there.
 */
async function upPostgres(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('books').addColumn('search_text', 'text').execute();
  await db.schema.createIndex('books_owner_id_id').on('books').columns(['owner_id', 'id']).execute();
  await db.schema.dropIndex('books_owner_id').execute();
  const schema = await trigramSchema(db);
  // Qualified: the extension may live in a schema that is not on this database's search_path.
  if (schema !== undefined)
    await sql`create index books_search_text_trgm on books
      using gin (search_text ${sql.id(schema, 'gin_trgm_ops')})`.execute(db);
  // Last: each row updated queues migration 0007's deferred trigger, and PostgreSQL
  // changes no index of a table with trigger events pending.
  for (let after = 0; ; ) {
    after = await foldBatch(db, after);
    if (after === 0) break;
  }
}

/** Folds the next batch of rows without search_text after id `after`; the last id folded, 0 when none was left. */
async function foldBatch(db: Kysely<any>, after: number): Promise<number> {
  const rows: { id: number; title: string; author: string }[] = await db
    .selectFrom('books')
    .select(['id', 'title', 'author'])
    .where('id', '>', after)
    .where('search_text', 'is', null)
    .orderBy('id')
    .limit(BATCH)
    .execute();
  if (rows.length === 0) return 0;
  const values = rows.map(
    (row) => sql`(cast(${Number(row.id)} as bigint), cast(${searchText(row.title, row.author)} as text))`,
  );
  // VALUES names its columns column1, column2 on both databases.
  await sql`update books set search_text = v.column2
    from (values ${sql.join(values)}) as v where books.id = v.column1`.execute(db);
  return Number(rows[rows.length - 1]?.id);
}

/**
 * The schema pg_trgm is installed in, installing it if need be; undefined
 * (and a line on stderr) when it cannot be had. It is a trusted extension:
 * a database owner may create it. A new one goes in `public`, which outlives
 * any one application schema, else in this one.
 */
async function trigramSchema(db: Kysely<any>): Promise<string | undefined> {
  const installed = async () =>
    (
      await sql<{ schema: string }>`select n.nspname as schema from pg_extension e
        join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`.execute(db)
    ).rows[0]?.schema;
  const existing = await installed();
  if (existing !== undefined) return existing;
  const available = await sql`select 1 from pg_available_extensions where name = 'pg_trgm'`.execute(db);
  if (available.rows.length === 0) {
    warn(
      'the pg_trgm extension is not available on this server (PostgreSQL ships it in its contrib modules)',
    );
    return undefined;
  }
  const { rows } = await sql<{ schema: string }>`select nspname as schema from pg_namespace
    where nspname in ('public', current_schema()) order by nspname = 'public' desc`.execute(db);
  let failure = 'no schema to create it in';
  for (const { schema } of rows) {
    // A failed statement would abort the migration's transaction: the savepoint keeps it alive.
    await sql`savepoint bookapi_pg_trgm`.execute(db);
    try {
      await sql`create extension if not exists pg_trgm schema ${sql.id(schema)}`.execute(db);
      await sql`release savepoint bookapi_pg_trgm`.execute(db);
      break;
    } catch (error) {
      await sql`rollback to savepoint bookapi_pg_trgm`.execute(db);
      failure = error instanceof Error ? error.message : String(error);
    }
  }
  // Another migration may have created it meanwhile, wherever it did.
  const created = await installed();
  if (created === undefined) warn(`cannot create the pg_trgm extension: ${failure}`);
  return created;
}

function warn(reason: string): void {
  process.stderr.write(
    `bookapi: migration 0010: book search has no trigram index: ${reason}. Searches still work, ` +
      'by reading the whole table. To add the index, have a superuser or the database owner run ' +
      '"create extension pg_trgm", then "create index books_search_text_trgm on books using gin (search_text gin_trgm_ops)".\n',
  );
}
