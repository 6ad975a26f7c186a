import type { Generated } from 'kysely';

/** The tables as Kysely sees them. Booleans are 0/1 integers so one query serves SQLite and PostgreSQL. */
export interface Database {
  users: UsersTable;
  books: BooksTable;
}

export interface UsersTable {
  id: Generated<number>;
  public_id: string;
  username: string;
  password_hash: string;
  admin: number;
  created_at: string;
}

export interface BooksTable {
  id: Generated<number>;
  title: string;
  author: string;
  /** trim + Unicode NFC + lower case of title/author: the database enforces uniqueness on the pair. */
  title_key: string;
  author_key: string;
  owner_id: number;
  created_at: string;
  updated_at: string;
}
