import { collectDefaultMetrics, Registry } from 'prom-client';

let registry: Registry | undefined;

/**
 * prom-client's Node.js and process metrics (CPU, memory, event-loop lag,
 * GC, handles), once per process however many apps it builds. Unprefixed,
 * as every Prometheus client library names them (`process_cpu_seconds_total`,
 * `nodejs_heap_size_used_bytes`): dashboards and alerts made for Node
 * services expect these names, and the scrape's job label tells services apart.
 */
export function processMetrics(): Registry {
  if (registry === undefined) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}
