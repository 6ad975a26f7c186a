import type { Generated } from 'kysely';

/** The tables as Kysely sees them. Booleans are 0/1 integers so one query serves SQLite and PostgreSQL. */
export interface Database {
  users: UsersTable;
  books: BooksTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  throttle_counters: ThrottleCountersTable;
  data_versions: DataVersionsTable;
}

export interface UsersTable {
  id: Generated<number>;
  public_id: string;
  /** As the user spelled it (NFC), shown back to them. */
  username: string;
  /** PRECIS UsernameCaseMapped form (src/users/username.ts): the identity, unique. */
  username_key: string;
  /** UTS #39 skeletons of the key in small letters and in capitals (src/users/skeleton.ts): no look-alikes. Each unique. */
  username_skeleton_lower: string;
  username_skeleton_upper: string;
  password_hash: string;
  admin: number;
  disabled: Generated<number>;
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

/** One login: every access and refresh token it leads to carries its id. Times in epoch ms. */
export interface SessionsTable {
  id: string;
  user_id: number;
  created_at: number;
  last_used_at: number;
  /** Absolute end: no refresh after this, however active the session. */
  expires_at: number;
  revoked_at: number | null;
}

export interface RefreshTokensTable {
  /** SHA-256 (hex) of the opaque token; the token itself is never stored. */
  token_hash: string;
  session_id: string;
  created_at: number;
  /** Set when the token is spent; presenting it again is reuse. */
  used_at: number | null;
}

/** A fixed-window throttling counter (see src/throttle/db-store.ts). */
export interface ThrottleCountersTable {
  /** A short hash naming the limit and whom it counts; never a username or an address. */
  key: string;
  hits: number;
  /** Epoch ms when the window closes; a closed window counts from zero again. */
  reset_at: number;
}

/** What cached answers were read under (migration 0007, src/db/hot-path.ts): 'auth' and 'books'. */
export interface DataVersionsTable {
  name: string;
  /** Random; replaced, in the same transaction, by every change that could alter a cached answer. */
  version: string;
}
