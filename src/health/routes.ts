import { Type } from 'typebox';
import { publicRoute } from '../auth/decorators.js';
import { type Db, ping } from '../db/database.js';
import { errors } from '../errors.js';
import { route } from '../http/route.js';
import { ErrorResponse } from '../http/schemas.js';

const Status = Type.Object({ status: Type.String() });

const HealthSchema = {
  tags: ['health'],
  summary: 'Liveness: the process is up (never touches the database)',
  response: { 200: Status },
} as const;

const ReadySchema = {
  tags: ['health'],
  summary: 'Readiness: the database answers',
  response: { 200: Status, 503: { ...ErrorResponse, description: 'Database unreachable' } },
} as const;

export class HealthRoutes {
  constructor(private readonly deps: { db: Db }) {}

  @route({ method: 'GET', url: '/health', schema: HealthSchema })
  @publicRoute
  async health() {
    return { status: 'ok' };
  }

  @route({ method: 'GET', url: '/ready', schema: ReadySchema })
  @publicRoute
  async ready() {
    if (!(await ping(this.deps.db))) throw errors.unavailable();
    return { status: 'ready' };
  }
}
