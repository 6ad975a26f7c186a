import { type Static, Type } from 'typebox';
import { ErrorResponse, MessageResponse } from '../http/schemas.js';
import { USERNAME_LENGTH } from '../users/username.js';

/** Length of a username after normalisation, in characters. */
export const USERNAME = { minLength: USERNAME_LENGTH.min, maxLength: USERNAME_LENGTH.max } as const;
/** NIST SP 800-63B: at least 8, allow long passphrases, never truncate. */
export const PASSWORD = { minLength: 8, maxLength: 128 } as const;

export const Password = Type.String({
  ...PASSWORD,
  description: '8-128 characters, not a commonly used password',
});

const Credentials = Type.Object(
  {
    // The rules need the normalised name, so they are checked in the handler
    // (src/users/username.ts); the schema only bounds the raw text.
    username: Type.String({
      minLength: 1,
      maxLength: 256,
      description:
        'PRECIS UsernameCaseMapped (RFC 8265): 3-64 letters, digits, marks or ASCII punctuation after ' +
        'normalisation, words separated by single spaces; nothing invisible; compared ignoring case and ' +
        'width, and refused if it looks like an existing name (Unicode TS #39). Stored as typed, in NFC.',
    }),
    password: Password,
  },
  // Extra fields (say, "admin": true) are dropped before the handler sees them.
  { additionalProperties: false },
);
export type Credentials = Static<typeof Credentials>;

const TooMany = { ...ErrorResponse, description: 'Too many attempts; see Retry-After' };

export const SignupSchema = {
  tags: ['auth'],
  summary: 'Create an account',
  body: Credentials,
  response: {
    201: { ...MessageResponse, description: 'Registered' },
    400: { ...ErrorResponse, description: 'Missing or invalid username or password, or a common password' },
    409: {
      ...ErrorResponse,
      description: 'User already exists! (any case or width), or a name that looks the same exists',
    },
    429: TooMany,
  },
} as const;

const LoginBody = Type.Object(
  {
    // Any string may be tried; a failed login never says which part was wrong.
    username: Type.String({ minLength: 1, maxLength: 1024 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export const TokenPair = Type.Object(
  {
    token: Type.String({ description: 'JWT access token' }),
    refresh_token: Type.Optional(
      Type.String({
        description:
          'Opaque, single-use refresh token; absent in cookie mode (X-Bookapi-Refresh: cookie), where it is in an HttpOnly cookie',
      }),
    ),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer({ description: 'Seconds until the access token expires' }),
  },
  { description: 'Logged in' },
);

const CookieMode = Type.Object({
  'x-bookapi-refresh': Type.Optional(
    Type.String({
      description:
        '`cookie` for the web client: the refresh token travels in an HttpOnly cookie (Path=/token, SameSite=Strict), not in the JSON',
    }),
  ),
});

export const LoginSchema = {
  tags: ['auth'],
  summary: 'Log in: an access token and a refresh token',
  headers: CookieMode,
  body: LoginBody,
  response: {
    201: TokenPair,
    401: {
      ...ErrorResponse,
      description: 'Could not verify! (missing field, unknown user or wrong password)',
    },
    403: { ...ErrorResponse, description: 'Account disabled! (only after a correct password)' },
    429: TooMany,
  },
} as const;

export const RefreshSchema = {
  tags: ['auth'],
  summary: 'Exchange a refresh token for new tokens (the old one is spent)',
  description:
    'API clients send `{"refresh_token"}`. The web client sends `X-Bookapi-Refresh: cookie`, its `X-Bookapi-Binding` secret and no body: the token comes from its cookie, the next one goes back into it, a cross-site request is refused (403), and a cookie without the secret it was issued with ends its session (401).',
  headers: CookieMode,
  body: Type.Object({ refresh_token: Type.String({ maxLength: 256 }) }, { additionalProperties: false }),
  response: {
    201: { ...TokenPair, description: 'New tokens; the access token is not fresh' },
    401: { ...ErrorResponse, description: 'Invalid refresh token!' },
  },
} as const;

export const TokenLogoutSchema = {
  tags: ['auth'],
  summary: "The web client's logout: ends the session of the refresh-token cookie and removes it",
  description:
    'Needs `X-Bookapi-Refresh: cookie`, the `X-Bookapi-Binding` secret the session was bound to at login, and a same-origin request (`Origin`/`Sec-Fetch-Site`); works with an expired access token. Always 200: a missing or spent cookie, or one bound to another secret, is simply removed.',
  headers: CookieMode,
  response: {
    200: MessageResponse,
    403: { ...ErrorResponse, description: 'Refused: a cross-site request, or the header is missing' },
  },
} as const;

export const LogoutSchema = {
  tags: ['auth'],
  summary: 'End this session: its access and refresh tokens stop working at once',
  response: { 200: MessageResponse },
} as const;

export const LogoutAllSchema = {
  tags: ['auth'],
  summary: 'End every session of this user',
  response: { 200: MessageResponse },
} as const;

export const JwksSchema = {
  tags: ['auth'],
  summary: 'Public keys that verify our access tokens (empty with HS256)',
  response: {
    200: Type.Object({
      keys: Type.Array(
        Type.Object(
          {
            kty: Type.String(),
            crv: Type.String(),
            x: Type.String(),
            y: Type.Optional(Type.String()),
            kid: Type.String(),
            alg: Type.String(),
            use: Type.String(),
          },
          { additionalProperties: false },
        ),
      ),
    }),
  },
} as const;
