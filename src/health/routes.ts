import { Type } from 'typebox';
import { publicRoute } from '../auth/decorators.js';
import { type Db, ping } from '../db/database.js';
import { errors } from '../errors.js';
import { route } from '../http/route.js';
import { ErrorResponse } from '../http/schemas.js';
import type { CounterStore } from '../throttle/store.js';

const Status = Type.Object({ status: Type.String() });

const HealthSchema = {
  tags: ['health'],
  summary: 'Liveness: the process is up (never touches the database)',
  response: { 200: Status },
} as const;

const ReadySchema = {
  tags: ['health'],
  summary: 'Readiness: the database answers, and Redis too when it holds the throttling counters',
  response: { 200: Status, 503: { ...ErrorResponse, description: 'Database or Redis unreachable' } },
} as const;

export class HealthRoutes {
  constructor(private readonly deps: { db: Db; counters: CounterStore }) {}

  @route({ method: 'GET', url: '/health', schema: HealthSchema, logLevel: 'warn' })
  @publicRoute
  async health() {
    return { status: 'ok' };
  }

  @route({ method: 'GET', url: '/ready', schema: ReadySchema, logLevel: 'warn' })
  @publicRoute
  async ready() {
    // Without its counters an instance can only answer 503 to logins: out of rotation it goes.
    const [database, counters] = await Promise.all([ping(this.deps.db), this.deps.counters.healthy()]);
    if (!database || !counters) throw errors.unavailable();
    return { status: 'ready' };
  }
}
