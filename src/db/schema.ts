import type { Generated } from 'kysely';

/** The tables as Kysely sees them. Booleans are 0/1 integers so one query serves SQLite and PostgreSQL. */
export interface Database {
  users: UsersTable;
  books: BooksTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  throttle_counters: ThrottleCountersTable;
  data_versions: DataVersionsTable;
  audit_events: AuditEventsTable;
  personal_access_tokens: PersonalAccessTokensTable;
  job_leases: JobLeasesTable;
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
  /**
   * Title and author folded for search (lower case, no accents, words apart): written by the
   * app with every insert and update (src/books/search.ts), null for rows written otherwise.
   */
  search_text: string | null;
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
  /** Opaque id shown to users and admins (GET /me/sessions); never the token or its hash. */
  public_id: string;
  /** As at the login or the last refresh: the client's User-Agent (truncated) and address. */
  user_agent: string | null;
  ip: string | null;
  /** SHA-256 (hex) of the web client's binding secret; null for API clients' sessions. */
  binding: string | null;
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

/** The persisted audit trail (migration 0008): who did what to whom, never a secret. */
export interface AuditEventsTable {
  id: Generated<number>;
  /** Epoch ms. */
  at: number;
  type: string;
  outcome: string;
  /** Public ids, kept as text: an event outlives the accounts it names. */
  actor_id: string | null;
  subject_id: string | null;
  /** The name given at a failed or throttled login, where no account is known (truncated). */
  username: string | null;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  /** A small JSON object of event-specific facts (scopes granted, what an admin changed). */
  detail: string | null;
}

/** Personal access tokens (migration 0009); the token itself is never stored. */
export interface PersonalAccessTokensTable {
  id: Generated<number>;
  public_id: string;
  user_id: number;
  name: string;
  /** Space-separated. */
  scopes: string;
  /** SHA-256 (hex) of the whole token. */
  token_hash: string;
  /** The token's first characters, to recognise it by. */
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
}

/** Background jobs that one process at a time runs (migration 0008): who holds each, until when. */
export interface JobLeasesTable {
  name: string;
  holder: string;
  /** Epoch ms. */
  until: number;
}
