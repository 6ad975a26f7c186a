import { type Static, Type } from 'typebox';
import { ErrorResponse, MessageResponse } from '../http/schemas.js';

/** A session as a device: what its user (or an admin) may see. Never a token or a hash. */
export const Device = Type.Object(
  {
    id: Type.String({ description: 'Opaque public id of the session (not the token)' }),
    created_at: Type.String({ format: 'date-time', description: 'The password login that started it' }),
    last_used_at: Type.String({ format: 'date-time', description: 'The login or the last token refresh' }),
    user_agent: Type.Union([Type.String(), Type.Null()], {
      description: 'As sent then, at most 256 characters',
    }),
    ip: Type.Union([Type.String(), Type.Null()], { description: 'The client address as the server saw it' }),
    current: Type.Boolean({ description: 'The session of the token that made this request' }),
  },
  { additionalProperties: false },
);
export type Device = Static<typeof Device>;

const SessionParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) });
const PublicIdParams = Type.Object({ public_id: Type.String({ format: 'uuid' }) });
const Devices = Type.Object({ sessions: Type.Array(Device) }, { additionalProperties: false });

export const ListMySessionsSchema = {
  tags: ['account'],
  summary: 'Live sessions (devices) of the account, newest first',
  response: { 200: Devices },
} as const;

export const EndMySessionSchema = {
  tags: ['account'],
  summary: 'End one session: its tokens are refused from the next request on',
  params: SessionParams,
  response: {
    200: MessageResponse,
    400: ErrorResponse,
    404: { ...ErrorResponse, description: 'Session not found! (none live with this id on this account)' },
  },
} as const;

export const ListUserSessionsSchema = {
  tags: ['admin'],
  summary: "A user's live sessions (fresh admin login)",
  params: PublicIdParams,
  response: { 200: Devices, 400: ErrorResponse, 404: { ...ErrorResponse, description: 'User not found!' } },
} as const;

export const EndUserSessionsSchema = {
  tags: ['admin'],
  summary: 'End every session of a user (fresh admin login); the account stays enabled',
  params: PublicIdParams,
  response: {
    200: Type.Object({ message: Type.String(), ended: Type.Integer() }, { additionalProperties: false }),
    400: ErrorResponse,
    404: { ...ErrorResponse, description: 'User not found!' },
  },
} as const;
