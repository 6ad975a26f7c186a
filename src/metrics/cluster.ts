import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/*
 * WORKERS > 1: one scrape, one answer for all workers. The primary asks every
 * worker for its metrics and adds them up (prom-client's AggregatorRegistry:
 * counters and histograms summed, gauges as each metric's `aggregator` says).
 * A worker that is scraped on the API's port asks the primary for that sum.
 */

const ASK = 'bookapi:metrics?';
const ANSWER = 'bookapi:metrics';
/** prom-client's primary gives up on a silent worker after 5 s; this waits a little longer. */
const TIMEOUT_MS = 6000;

interface Answer {
  type: typeof ANSWER;
  id: number;
  text?: string;
  error?: string;
}

let aggregator: AggregatorRegistry<'text/plain; version=0.0.4; charset=utf-8'> | undefined;

/** In a worker: the primary may collect these registries (prom-client answers its requests). */
export function shareWithPrimary(registries: Registry[]): void {
  AggregatorRegistry.setRegistries(registries);
  aggregator ??= new AggregatorRegistry(); // installs prom-client's listener for the primary's requests
}

/** In the primary: every worker's metrics, added up, in the text format. */
export function clusterMetrics(): Promise<string> {
  aggregator ??= new AggregatorRegistry();
  return aggregator.clusterMetrics();
}

let answering = false;

/** In the primary: workers scraped on the API's port get the sum from here. */
export function answerWorkers(): void {
  if (answering) return;
  answering = true;
  cluster.on('message', (worker, message: { type?: unknown; id?: unknown }) => {
    if (message?.type !== ASK || typeof message.id !== 'number') return;
    const id = message.id;
    const reply = (answer: Omit<Answer, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: ANSWER, id, ...answer });
    };
    clusterMetrics().then(
      (text) => reply({ text }),
      (error: Error) => reply({ error: error.message }),
    );
  });
}

const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
let nextId = 0;
let listening = false;

/** In a worker: the sum over all workers, from the primary. */
export function fromPrimary(): Promise<string> {
  if (!listening) {
    listening = true;
    process.on('message', (message: Partial<Answer>) => {
      if (message?.type !== ANSWER || typeof message.id !== 'number') return;
      const waiting = pending.get(message.id);
      if (waiting === undefined) return;
      pending.delete(message.id);
      if (typeof message.text === 'string') waiting.resolve(message.text);
      else waiting.reject(new Error(`the primary could not collect the metrics: ${message.error}`));
    });
  }
  const id = nextId++;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error('the primary did not answer with the metrics in time'));
    }, TIMEOUT_MS);
    pending.set(id, {
      resolve: (text) => {
        clearTimeout(timer);
        resolve(text);
      },
      reject: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    });
    process.send?.({ type: ASK, id });
  });
}
