import { type Static, Type } from 'typebox';
import { ErrorResponse, MessageResponse } from '../http/schemas.js';

export const USERNAME = { minLength: 3, maxLength: 64 } as const;
/** NIST SP 800-63B: at least 8, allow long passphrases, never truncate. */
export const PASSWORD = { minLength: 8, maxLength: 128 } as const;

// No control characters or surrounding spaces: a username is shown to people.
const usernamePattern = '^[^\\s\\p{Cc}](?:[^\\p{Cc}]*[^\\s\\p{Cc}])?$';

const Credentials = Type.Object(
  {
    username: Type.String({ ...USERNAME, pattern: usernamePattern }),
    password: Type.String(PASSWORD),
  },
  // Extra fields (say, "admin": true) are dropped before the handler sees them.
  { additionalProperties: false },
);
export type Credentials = Static<typeof Credentials>;

export const SignupSchema = {
  tags: ['auth'],
  summary: 'Create an account',
  body: Credentials,
  response: {
    201: { ...MessageResponse, description: 'Registered' },
    400: { ...ErrorResponse, description: 'Missing or invalid username or password' },
    409: { ...ErrorResponse, description: 'User already exists!' },
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

export const LoginSchema = {
  tags: ['auth'],
  summary: 'Log in and receive an access token',
  body: LoginBody,
  response: {
    201: Type.Object(
      {
        token: Type.String({ description: 'JWT access token (HS256)' }),
        token_type: Type.Literal('Bearer'),
        expires_in: Type.Integer({ description: 'Seconds until the token expires' }),
      },
      { description: 'Logged in' },
    ),
    401: {
      ...ErrorResponse,
      description: 'Could not verify! (missing field, unknown user or wrong password)',
    },
  },
} as const;
