import type { FastifyInstance } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { type Cell, CellHistogram } from './cells.js';

type Label = 'method' | 'route' | 'status_code';

/** The route label of a request that matched no route: its URL would make a new series per URL. */
export const UNMATCHED = 'unmatched';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Request count and duration by method, route template and status code.
 * Labels come from the router (the template, never the URL), the method
 * (Node's parser knows a fixed list) and the status: a bounded set.
 */
export class HttpMetrics {
  private readonly durations: CellHistogram<Label>;
  /** route → method → status → cell: three lookups, no string built per request. */
  private readonly routes = new Map<string, Map<string, Cell<Label>[]>>();

  constructor(registry: Registry) {
    const durations = new CellHistogram<Label>({
      name: 'bookapi_http_request_duration_seconds',
      help: 'Time from routing a request to the end of its answer, by method, route template and status',
      labelNames: ['method', 'route', 'status_code'],
      buckets: BUCKETS,
      registers: [registry],
    });
    this.durations = durations;
    new Counter({
      name: 'bookapi_http_requests_total',
      help: 'Requests answered, by method, route template and status',
      labelNames: ['method', 'route', 'status_code'],
      registers: [registry],
      // Read from the histogram's cells at scrape time: the hot path counts once.
      collect() {
        this.reset();
        for (const cell of durations.cells()) this.inc(cell.labels, cell.count);
      },
    });
  }

  /** Requests answered so far with this route, method and status. */
  count(route: string, method: string, status: number): number {
    return this.routes.get(route)?.get(method)?.[status]?.count ?? 0;
  }

  cell(route: string, method: string, status: number): Cell<Label> {
    let methods = this.routes.get(route);
    if (methods === undefined) {
      methods = new Map();
      this.routes.set(route, methods);
    }
    let statuses = methods.get(method);
    if (statuses === undefined) {
      statuses = [];
      methods.set(method, statuses);
    }
    let cell = statuses[status];
    if (cell === undefined) {
      cell = this.durations.cell({ method, route, status_code: String(status) });
      statuses[status] = cell;
    }
    return cell;
  }

  /**
   * One onResponse hook for every answer, 404s included (a hook added here
   * reaches the not-found handler too). Fastify has timed the request already.
   */
  install(app: FastifyInstance): void {
    app.addHook('onResponse', (req, reply, done) => {
      this.cell(req.routeOptions.url ?? UNMATCHED, req.method, reply.statusCode).observe(
        reply.elapsedTime / 1000,
      );
      done();
    });
  }
}
