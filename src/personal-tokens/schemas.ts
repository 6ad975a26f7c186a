import { type Static, Type } from 'typebox';
import { SCOPES, type Scope } from '../auth/scopes.js';
import { ErrorResponse, MessageResponse } from '../http/schemas.js';

export const MAX_TOKENS_PER_USER = 50;
/** 30 days unless asked otherwise; at most a year: a token that never expires is forgotten, not revoked. */
export const DEFAULT_EXPIRES_IN = 30 * 86_400;
export const MAX_EXPIRES_IN = 366 * 86_400;

const ScopeName = Type.Unsafe<Scope>({
  type: 'string',
  enum: [...SCOPES],
  description: 'books:read, books:write, account:read, or admin (admins only)',
});

// A name people read in a list: a visible character at least, no control, format (invisible,
// bidi override) or broken characters.
const Name = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^(?=[\\s\\S]*[^\\s\\p{C}])[^\\p{C}]*$',
});

export const TokenView = Type.Object(
  {
    id: Type.String({ description: 'Public id, for DELETE /me/tokens/:id' }),
    name: Type.String(),
    scopes: Type.Array(ScopeName),
    prefix: Type.String({ description: 'The first characters of the token, to recognise it by' }),
    created_at: Type.String({ format: 'date-time' }),
    last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'To the minute; null when never used',
    }),
    expires_at: Type.String({ format: 'date-time' }),
    expired: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type TokenView = Static<typeof TokenView>;

export const CreateTokenSchema = {
  tags: ['account'],
  summary: 'Create a personal access token (fresh login); the token is shown only in this answer',
  description:
    'For scripts: send it as `Authorization: Bearer bkp_…` (or `x-access-token`). Only its SHA-256 is stored. It can never change the password, delete the account, create tokens or manage sessions, whatever its scopes.',
  body: Type.Object(
    {
      name: Name,
      scopes: Type.Array(ScopeName, { minItems: 1, maxItems: SCOPES.length, uniqueItems: true }),
      expires_in: Type.Optional(
        Type.Integer({
          minimum: 60,
          maximum: MAX_EXPIRES_IN,
          description: `Seconds until it expires (default ${DEFAULT_EXPIRES_IN}, 30 days; at most 366 days)`,
        }),
      ),
    },
    { additionalProperties: false },
  ),
  response: {
    201: Type.Object(
      { ...TokenView.properties, token: Type.String({ description: 'bkp_… — shown once, store it now' }) },
      { additionalProperties: false },
    ),
    400: ErrorResponse,
    403: { ...ErrorResponse, description: 'Only an admin can grant the admin scope' },
    409: { ...ErrorResponse, description: `At most ${MAX_TOKENS_PER_USER} live tokens per account` },
  },
} as const;

export const ListTokensSchema = {
  tags: ['account'],
  summary: 'Personal access tokens of the account (never the tokens themselves), newest first',
  description: `At most ${MAX_TOKENS_PER_USER}: the tokens not revoked, expired ones included until revoked (or pruned a week after they expired).`,
  response: { 200: Type.Object({ tokens: Type.Array(TokenView) }, { additionalProperties: false }) },
} as const;

export const RevokeTokenSchema = {
  tags: ['account'],
  summary: 'Revoke a personal access token: refused from the next request on, everywhere',
  params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
  response: {
    200: MessageResponse,
    400: ErrorResponse,
    404: { ...ErrorResponse, description: 'Token not found!' },
  },
} as const;
