import { type Static, Type } from 'typebox';
import { PageLimit } from '../http/pagination.js';
import { ErrorResponse, IdString } from '../http/schemas.js';
import { AUDIT_TYPES, type AuditType } from './events.js';

const Kind = Type.Unsafe<AuditType>({ type: 'string', enum: [...AUDIT_TYPES], description: 'Event type' });

const Detail = Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
  description: 'Event-specific facts (scopes granted, sessions ended, a reuse reason), or null',
});

/** An event as its user sees it: never who the admin was, only that one acted. */
export const ActivityEvent = Type.Object(
  {
    id: Type.Integer(),
    at: Type.String({ format: 'date-time' }),
    type: Kind,
    outcome: Type.String({ description: 'success, failure; a refresh: rotated or grace_replay' }),
    by_admin: Type.Boolean({
      description: 'An admin acted on this account (disable, promotion, ended sessions)',
    }),
    session_id: Type.Union([Type.String(), Type.Null()], {
      description: 'Public id of the session concerned',
    }),
    ip: Type.Union([Type.String(), Type.Null()]),
    user_agent: Type.Union([Type.String(), Type.Null()]),
    detail: Detail,
  },
  { additionalProperties: false },
);
export type ActivityEvent = Static<typeof ActivityEvent>;

export const AuditEntry = Type.Object(
  {
    id: Type.Integer(),
    at: Type.String({ format: 'date-time' }),
    type: Kind,
    outcome: Type.String(),
    actor_id: Type.Union([Type.String(), Type.Null()], { description: 'Public id of whoever acted' }),
    subject_id: Type.Union([Type.String(), Type.Null()], {
      description: 'Public id of the account concerned',
    }),
    username: Type.Union([Type.String(), Type.Null()], {
      description: 'The name given at a failed login that matched no account',
    }),
    session_id: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    user_agent: Type.Union([Type.String(), Type.Null()]),
    detail: Detail,
  },
  { additionalProperties: false },
);
export type AuditEntry = Static<typeof AuditEntry>;

const After = Type.Optional({
  ...IdString,
  description: 'The id of the last event of the previous page (pages go from newest to oldest)',
});

export const ActivitySchema = {
  tags: ['account'],
  summary: "The account's own activity, newest first",
  description:
    'Logins (failed ones included), refreshes, logouts, password changes, ended sessions, tokens created and revoked, and what admins did to the account. A full page has a `Link: <…>; rel="next"` header.',
  querystring: Type.Object({ limit: PageLimit, after: After }, { additionalProperties: false }),
  response: {
    200: Type.Object({ events: Type.Array(ActivityEvent) }, { additionalProperties: false }),
    400: ErrorResponse,
  },
} as const;

export const AuditSchema = {
  tags: ['admin'],
  summary: 'The audit log, newest first (admins only)',
  description:
    'Every auth event of every account, kept for AUDIT_RETENTION. Filters combine; a full page has a `Link: <…>; rel="next"` header carrying them.',
  querystring: Type.Object(
    {
      limit: PageLimit,
      after: After,
      user: Type.Optional(
        Type.String({ format: 'uuid', description: 'Events about this user or by this user (public id)' }),
      ),
      type: Type.Optional(Kind),
      since: Type.Optional(Type.String({ format: 'date-time', description: 'Events at or after this time' })),
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object({ events: Type.Array(AuditEntry) }, { additionalProperties: false }),
    400: ErrorResponse,
  },
} as const;
