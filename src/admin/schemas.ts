import { Type } from 'typebox';
import { PageLimit } from '../http/pagination.js';
import { ErrorResponse, MessageResponse } from '../http/schemas.js';
import { AdminUserView } from '../users/schemas.js';

const PublicIdParams = Type.Object({ public_id: Type.String({ format: 'uuid' }) });

export const ListUsersSchema = {
  tags: ['admin'],
  summary: 'List users, oldest first (admins only)',
  description: 'Keyset pagination like books: `after` is the public_id of the last user seen.',
  querystring: Type.Object(
    {
      limit: PageLimit,
      after: Type.Optional(Type.String({ format: 'uuid' })),
      q: Type.Optional(
        Type.String({
          maxLength: 64,
          pattern: '^[^\\p{Cc}]*$',
          description: 'Only users whose name contains this (ignoring case and width)',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object({ Users: Type.Array(AdminUserView) }, { additionalProperties: false }),
    400: ErrorResponse,
  },
} as const;

export const UpdateUserSchema = {
  tags: ['admin'],
  summary: 'Grant or revoke admin rights, disable or enable an account (fresh admin login)',
  params: PublicIdParams,
  body: Type.Object(
    { admin: Type.Optional(Type.Boolean()), disabled: Type.Optional(Type.Boolean()) },
    { additionalProperties: false, anyOf: [{ required: ['admin'] }, { required: ['disabled'] }] },
  ),
  response: {
    200: AdminUserView,
    400: ErrorResponse,
    404: { ...ErrorResponse, description: 'User not found!' },
    409: { ...ErrorResponse, description: 'The last admin cannot be demoted, disabled or deleted' },
  },
} as const;

export const DeleteUserSchema = {
  tags: ['admin'],
  summary: 'Delete a user and their books (fresh admin login)',
  params: PublicIdParams,
  response: {
    200: MessageResponse,
    400: ErrorResponse,
    404: { ...ErrorResponse, description: 'User not found!' },
    409: { ...ErrorResponse, description: 'The last admin cannot be demoted, disabled or deleted' },
  },
} as const;
