import { Type } from 'typebox';
import { Password } from '../auth/schemas.js';
import { ErrorResponse, MessageResponse } from '../http/schemas.js';

/** What a user may see of an account: never the password hash. */
export const User = Type.Object({
  public_id: Type.String({ format: 'uuid' }),
  username: Type.String(),
  admin: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
});

export const AdminUserView = Type.Object({ ...User.properties, disabled: Type.Boolean() });

const Fresh = { ...ErrorResponse, description: 'Fresh login required! (or a token problem)' };

export const MeSchema = {
  tags: ['account'],
  summary: 'The logged-in user',
  response: { 200: User },
} as const;

export const ChangePasswordSchema = {
  tags: ['account'],
  summary: 'Change the password; every other session of the user ends',
  body: Type.Object(
    { current_password: Type.String({ minLength: 1, maxLength: 1024 }), new_password: Password },
    { additionalProperties: false },
  ),
  response: {
    200: MessageResponse,
    400: { ...ErrorResponse, description: 'Invalid or common new password' },
    401: { ...Fresh, description: 'Password is incorrect!, Fresh login required! or a token problem' },
    429: ErrorResponse,
  },
} as const;

export const DeleteMeSchema = {
  tags: ['account'],
  summary: 'Delete the account and its books',
  body: Type.Object(
    { password: Type.String({ minLength: 1, maxLength: 1024 }) },
    { additionalProperties: false },
  ),
  response: {
    200: MessageResponse,
    400: ErrorResponse,
    401: { ...Fresh, description: 'Password is incorrect!, Fresh login required! or a token problem' },
    429: ErrorResponse,
  },
} as const;
