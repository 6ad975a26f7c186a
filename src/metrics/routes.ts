import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Registry } from 'prom-client';
import { publicRoute } from '../auth/decorators.js';
import { errors } from '../errors.js';
import { route } from '../http/route.js';

// Hidden from the OpenAPI document: an operator's endpoint, with a token of its own, not the API's.
const MetricsSchema = { hide: true, summary: 'Prometheus metrics (METRICS_TOKEN)' } as const;

const BEARER = /^Bearer +(\S+) *$/i;

const digest = (text: string) => createHash('sha256').update(text).digest();

export class MetricsRoutes {
  private readonly expected: Buffer;

  constructor(private readonly deps: { token: string; render: () => Promise<string> }) {
    this.expected = digest(deps.token);
  }

  /**
   * Public to the guard, which knows user tokens only: the metrics token is
   * checked here, in constant time (equal-length digests, so neither the
   * content nor the length of METRICS_TOKEN leaks through timing).
   */
  @route({ method: 'GET', url: '/metrics', schema: MetricsSchema, logLevel: 'warn' })
  @publicRoute
  async metrics(req: FastifyRequest, reply: FastifyReply) {
    const presented = BEARER.exec(req.headers.authorization ?? '')?.[1];
    if (presented === undefined) throw errors.tokenMissing();
    if (!timingSafeEqual(digest(presented), this.expected)) throw errors.tokenInvalid();
    let text: string;
    try {
      text = await this.deps.render();
    } catch (error) {
      // A worker whose primary did not answer in time: try again, like any 503.
      req.log.warn({ err: error }, 'metrics unavailable');
      throw errors.unavailable();
    }
    return reply.type(Registry.PROMETHEUS_CONTENT_TYPE).send(text);
  }
}
