/** Stable, machine-readable error codes; clients may switch on them. */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'INVALID_INPUT'
  | 'INVALID_JSON'
  | 'BODY_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'HEADERS_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'EXPECTATION_FAILED'
  | 'BAD_REQUEST'
  | 'INVALID_CREDENTIALS'
  | 'TOKEN_MISSING'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_INVALID'
  | 'TOKEN_REVOKED'
  | 'FRESH_LOGIN_REQUIRED'
  | 'REFRESH_INVALID'
  | 'ACCOUNT_DISABLED'
  | 'PASSWORD_TOO_COMMON'
  | 'TOO_MANY_REQUESTS'
  | 'LAST_ADMIN'
  | 'CONFLICT'
  | 'USER_NOT_FOUND'
  | 'USER_EXISTS'
  | 'USERNAME_CONFUSABLE'
  | 'USERNAME_INVALID'
  | 'FORBIDDEN'
  | 'ADMIN_REQUIRED'
  | 'INSUFFICIENT_SCOPE'
  | 'SESSION_TOKEN_REQUIRED'
  | 'SESSION_NOT_FOUND'
  | 'TOKEN_NOT_FOUND'
  | 'TOO_MANY_TOKENS'
  | 'CROSS_SITE_REQUEST'
  | 'BOOK_NOT_FOUND'
  | 'BOOK_EXISTS'
  | 'PRECONDITION_FAILED'
  | 'ROUTE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_ERROR';

/**
 * The project's one error type. Anything that should reach a client as a 4xx
 * (or a deliberate 503) is thrown as an ApiError; the error handler turns it
 * into `{ message, code }` and adds its headers.
 */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** RFC 6750 §3: a bare challenge when no token came, error="invalid_token" when a bad one did. */
const CHALLENGE = 'Bearer realm="bookapi"';
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="bookapi", error="invalid_token"';

export const errors = {
  tokenMissing: () =>
    new ApiError(401, 'TOKEN_MISSING', 'A valid token is missing!', { 'www-authenticate': CHALLENGE }),
  tokenExpired: () =>
    new ApiError(401, 'TOKEN_EXPIRED', 'Token has expired!', {
      'www-authenticate': `${INVALID_TOKEN_CHALLENGE}, error_description="The token has expired"`,
    }),
  tokenInvalid: () =>
    new ApiError(401, 'TOKEN_INVALID', 'Invalid token!', { 'www-authenticate': INVALID_TOKEN_CHALLENGE }),
  /** One answer for a missing field, an unknown user and a wrong password, so none reveals which. */
  invalidCredentials: () =>
    new ApiError(401, 'INVALID_CREDENTIALS', 'Could not verify!', { 'www-authenticate': CHALLENGE }),
  tokenRevoked: () =>
    new ApiError(401, 'TOKEN_REVOKED', 'Token has been revoked!', {
      'www-authenticate': `${INVALID_TOKEN_CHALLENGE}, error_description="The session has ended"`,
    }),
  freshLoginRequired: () =>
    new ApiError(401, 'FRESH_LOGIN_REQUIRED', 'Fresh login required!', {
      'www-authenticate': `${INVALID_TOKEN_CHALLENGE}, error_description="Log in with your password again"`,
    }),
  invalidRefresh: () => new ApiError(401, 'REFRESH_INVALID', 'Invalid refresh token!'),
  wrongPassword: () =>
    new ApiError(401, 'INVALID_CREDENTIALS', 'Password is incorrect!', { 'www-authenticate': CHALLENGE }),
  accountDisabled: () => new ApiError(403, 'ACCOUNT_DISABLED', 'Account disabled!'),
  passwordTooCommon: () =>
    new ApiError(400, 'PASSWORD_TOO_COMMON', 'This password is too common; choose another one'),
  tooManyRequests: (message: string, retryAfterSeconds: number) =>
    new ApiError(429, 'TOO_MANY_REQUESTS', message, {
      'retry-after': String(Math.max(1, retryAfterSeconds)),
    }),
  conflict: () =>
    new ApiError(409, 'CONFLICT', 'What this request refers to changed while it ran; try again'),
  lastAdmin: () => new ApiError(409, 'LAST_ADMIN', 'The last admin cannot be demoted, disabled or deleted!'),
  userNotFound: () => new ApiError(404, 'USER_NOT_FOUND', 'User not found!'),
  userExists: () => new ApiError(409, 'USER_EXISTS', 'User already exists!'),
  usernameConfusable: () =>
    new ApiError(409, 'USERNAME_CONFUSABLE', 'A user with a name that looks the same already exists!'),
  usernameInvalid: (message: string) => new ApiError(400, 'USERNAME_INVALID', message),
  adminRequired: () => new ApiError(403, 'ADMIN_REQUIRED', 'Admin privileges required!'),
  /** RFC 6750 §3.1: the token is good but lacks a scope this route needs. */
  insufficientScope: (scopes: readonly string[]) =>
    new ApiError(403, 'INSUFFICIENT_SCOPE', 'Insufficient scope!', {
      'www-authenticate': `Bearer realm="bookapi", error="insufficient_scope", scope="${scopes.join(' ')}"`,
    }),
  sessionTokenRequired: () =>
    new ApiError(
      403,
      'SESSION_TOKEN_REQUIRED',
      'A personal access token cannot do this; use the access token of a password login!',
      { 'www-authenticate': 'Bearer realm="bookapi", error="insufficient_scope"' },
    ),
  sessionNotFound: () => new ApiError(404, 'SESSION_NOT_FOUND', 'Session not found!'),
  tokenNotFound: () => new ApiError(404, 'TOKEN_NOT_FOUND', 'Token not found!'),
  tooManyTokens: (max: number) =>
    new ApiError(
      409,
      'TOO_MANY_TOKENS',
      `At most ${max} personal access tokens per account; revoke one first`,
    ),
  forbidden: (message: string) => new ApiError(403, 'FORBIDDEN', message),
  notBookOwner: () =>
    new ApiError(403, 'FORBIDDEN', 'Only the owner of this book or an admin may change it!'),
  bookNotFound: () => new ApiError(404, 'BOOK_NOT_FOUND', 'book does not exist'),
  bookExists: () => new ApiError(409, 'BOOK_EXISTS', 'Book with same title already exists!'),
  invalidInput: (message = 'Invalid input!') => new ApiError(400, 'INVALID_INPUT', message),
  unavailable: () => new ApiError(503, 'SERVICE_UNAVAILABLE', 'Service unavailable', { 'retry-after': '5' }),
};
