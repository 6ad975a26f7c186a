import { Gauge, type Registry } from 'prom-client';
import { type HashOperation, onPasswordHash, passwordHashQueueLength } from '../auth/passwords.js';
import { CellHistogram } from './cells.js';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * argon2id time per hash or verify, and the queue in front of it: hashing
 * runs at most (cores − 1) at once, so under a login flood the queue grows
 * while each hash keeps its time. Both are the process's (one queue for all).
 * Returns the function that stops the observation.
 */
export function passwordMetrics(registry: Registry): () => void {
  const durations = new CellHistogram<'operation'>({
    name: 'bookapi_password_hash_duration_seconds',
    help: 'argon2id time per operation (hash, verify), not counting the wait for a slot',
    labelNames: ['operation'],
    buckets: BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'bookapi_password_hash_queue_length',
    help: 'Password hashes and verifies waiting for a slot (at most cores − 1 run at once)',
    registers: [registry],
    collect() {
      this.set(passwordHashQueueLength());
    },
  });
  const cells: Record<HashOperation, ReturnType<typeof durations.cell>> = {
    hash: durations.cell({ operation: 'hash' }),
    verify: durations.cell({ operation: 'verify' }),
  };
  return onPasswordHash((operation, seconds) => cells[operation].observe(seconds));
}
