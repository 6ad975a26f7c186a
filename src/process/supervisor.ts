import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { createLogger, isPretty } from '../logger.js';
import { answerWorkers, clusterMetrics } from '../metrics/cluster.js';
import { metricsEnabled } from '../metrics/install.js';
import { startMetricsServer } from '../metrics/server.js';
import type { ResolvedSecret } from './secret.js';
import { generatedSecretNote, migrateOnce } from './serve.js';
import { startupSummary } from './summary.js';

/** Runtime crashes are restarted after 1 s, 2 s, 4 s … up to this. */
const MAX_BACKOFF_MS = 30_000;
/** More crashes than this within CRASH_WINDOW_MS and the primary gives up. */
const MAX_CRASHES = 5;
const CRASH_WINDOW_MS = 5 * 60_000;

/**
 * WORKERS > 1: migrate once, fork the workers (they share the port through
 * node:cluster) and report "ready" only when every one of them listens. A
 * worker that fails while starting stops everything with a non-zero exit —
 * the same mistake would kill its replacement too. A worker that crashes
 * later is replaced with exponential backoff; too many crashes in a row and
 * the primary exits loudly rather than loop. SIGTERM/SIGINT drain all workers.
 */
export async function supervise(secret: ResolvedSecret): Promise<void> {
  const { config } = secret;
  const log = createLogger(config.logLevel, config.logFormat);
  const migrations = await migrateOnce(config);
  if (secret.created) log.warn(generatedSecretNote(secret.file, config));
  // One scrape, one answer for all workers: the primary adds up theirs (src/metrics/cluster.ts).
  if (metricsEnabled(config.metrics)) answerWorkers();
  const metricsServer =
    config.metrics.port === undefined
      ? undefined
      : await startMetricsServer(config.metrics.port, clusterMetrics);

  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  const listening = new Set<number>();
  const crashes: number[] = [];
  let exitCode = 0;

  const stopAll = (code: number) => {
    if (phase === 'stopping') return;
    phase = 'stopping';
    exitCode = code;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    if (workers.length === 0) process.exit(code);
    for (const worker of workers) worker.process.kill('SIGTERM');
    setTimeout(() => process.exit(code || 1), (config.shutdownGrace + 2) * 1000).unref();
  };

  cluster.on('listening', (worker, address) => {
    listening.add(worker.id);
    if (phase !== 'starting' || listening.size < config.workers) return;
    phase = 'running';
    const summary = startupSummary({
      config,
      secret,
      migrations,
      address: { address: address.address ?? config.host, port: address.port },
      metricsPort: (metricsServer?.address() as AddressInfo | null)?.port,
    });
    log.info(isPretty(config.logFormat) ? {} : summary.fields, summary.message);
  });

  cluster.on('exit', (worker, code, signal) => {
    const wasListening = listening.delete(worker.id);
    if (phase === 'stopping') {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
      return;
    }
    const how = signal ?? `exit code ${code}`;
    if (phase === 'starting' && !wasListening) {
      log.fatal(
        { event: 'worker.failed_to_start', worker: worker.process.pid, code, signal },
        `a worker failed to start (${how}); its error is printed above. Stopping.`,
      );
      // A configuration the worker refused (exit code 2) is the operator's to fix, as with one process.
      return stopAll(code === 2 ? 2 : 1);
    }
    const now = Date.now();
    crashes.push(now);
    while (crashes.length > 0 && (crashes[0] ?? now) < now - CRASH_WINDOW_MS) crashes.shift();
    if (crashes.length > MAX_CRASHES) {
      log.fatal(
        { event: 'worker.crash_loop', crashes: crashes.length },
        `${crashes.length} worker crashes within ${CRASH_WINDOW_MS / 60_000} minutes; giving up`,
      );
      return stopAll(1);
    }
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (crashes.length - 1));
    log.error(
      { event: 'worker.crashed', worker: worker.process.pid, code, signal, restartInMs: delay },
      `worker ${worker.process.pid} died (${how}); starting another in ${delay / 1000}s`,
    );
    setTimeout(() => {
      if (phase !== 'stopping') cluster.fork();
    }, delay);
  });

  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, `${signal}: stopping ${config.workers} workers`);
    stopAll(0);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  for (let i = 0; i < config.workers; i++) cluster.fork();
}
