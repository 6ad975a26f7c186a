/** The authenticated user a decorator hands to a handler. Never carries the password hash. */
export interface AuthUser {
  readonly id: number;
  readonly publicId: string;
  readonly username: string;
  readonly admin: boolean;
  /** The session the request's token belongs to (what POST /logout ends). */
  readonly sessionId: string;
}

/** What an `adminRequired` handler receives: the admin flag is known to be set. */
export type AdminUser = AuthUser & { readonly admin: true };
