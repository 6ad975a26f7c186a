/** The authenticated user a decorator hands to a handler. Never carries the password hash. */
export interface AuthUser {
  readonly id: number;
  readonly publicId: string;
  readonly username: string;
  readonly admin: boolean;
}

/** What an `adminRequired` handler receives: the admin flag is known to be set. */
export type AdminUser = AuthUser & { readonly admin: true };
