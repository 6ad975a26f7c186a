// The API's shapes, taken from the server's TypeBox schemas. Type-only imports vanish from the
// bundle, so a change of the contract breaks this client's type-check instead of its users.
import type { Static } from 'typebox';
import type { ListUsersSchema } from '../../src/admin/schemas.js';
import type { AuditType } from '../../src/audit/events.js';
import type { ActivityEvent, AuditEntry } from '../../src/audit/schemas.js';
import type { TokenPair } from '../../src/auth/schemas.js';
import type { Scope } from '../../src/auth/scopes.js';
import type { Book, ListBooksSchema } from '../../src/books/schemas.js';
import type { ErrorCode } from '../../src/errors.js';
import type { CreateTokenSchema, TokenView } from '../../src/personal-tokens/schemas.js';
import type { Device } from '../../src/sessions/schemas.js';
import type { AdminUserView, User } from '../../src/users/schemas.js';

export type { ActivityEvent, AuditEntry, AuditType, Book, Device, ErrorCode, Scope, TokenView };
export type Me = Static<typeof User>;
export type AdminUser = Static<typeof AdminUserView>;
export type BookPage = Static<(typeof ListBooksSchema.response)[200]>;
export type UserPage = Static<(typeof ListUsersSchema.response)[200]>;
/** A browser login or refresh: the refresh token stays in its HttpOnly cookie, never in the body. */
export type AccessGrant = Pick<Static<typeof TokenPair>, 'token' | 'token_type' | 'expires_in'>;
export type NewToken = Static<(typeof CreateTokenSchema.response)[201]>;
export type NewTokenRequest = Static<typeof CreateTokenSchema.body>;
export interface ErrorBody {
  message: string;
  code: ErrorCode;
}
