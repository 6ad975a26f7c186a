import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildApp } from '../app.js';
import { type Config, ConfigError, loadConfig } from '../config.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest, migrationStatus } from '../db/migrate.js';
import { isPretty, loggerOptions } from '../logger.js';
import { shareWithPrimary } from '../metrics/cluster.js';
import { metricsEnabled, metricsOf } from '../metrics/install.js';
import { startMetricsServer } from '../metrics/server.js';
import { resolveSecret } from './secret.js';
import { startupSummary } from './summary.js';
import { supervise } from './supervisor.js';

export interface ServeFlags {
  port?: string;
  host?: string;
  workers?: string;
}

/**
 * `bookapi serve` (and `node dist/server.js`): one process, or with
 * WORKERS > 1 a primary that migrates once and supervises the workers.
 */
export async function serve(flags: ServeFlags = {}): Promise<void> {
  const config = loadConfig(withFlags(process.env, flags));
  const secret = resolveSecret(config);
  if (config.workers > 1 && cluster.isPrimary) return supervise(secret);

  // A worker that is still starting answers its primary's metrics requests with nothing yet,
  // rather than keeping a scrape waiting for it.
  if (cluster.isWorker && metricsEnabled(config.metrics)) shareWithPrimary([]);
  // A worker finds the database migrated by its primary; a single process migrates here.
  const applied = cluster.isPrimary ? await migrateOnce(config) : { applied: [], total: 0 };
  const app = await buildApp({
    config: secret.config,
    logger: loggerOptions(config.logLevel, config.logFormat),
  });

  if (secret.created) app.log.warn(generatedSecretNote(secret.file, config));

  let closing = false;
  let metricsServer: Server | undefined;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    metricsServer?.close();
    setTimeout(() => {
      app.log.error('shutdown grace period exceeded; exiting');
      process.exit(1);
    }, config.shutdownGrace * 1000).unref();
    // close() stops accepting connections, lets in-flight requests finish, then closes the pools.
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);

  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      const why = {
        EADDRINUSE: 'is already in use',
        EACCES: 'needs privileges',
        EADDRNOTAVAIL: 'is not an address of this machine',
      }[code];
      throw new Error(
        `cannot listen on ${config.host}:${config.port}: ${code === 'EADDRNOTAVAIL' ? config.host : `port ${config.port}`} ${why} (set PORT/HOST or --port/--host)`,
      );
    }
    if (code === 'EAI_AGAIN') {
      // The name server did not answer: the setting may be right, so not a configuration error.
      throw new Error(
        `cannot resolve HOST "${config.host}" right now (EAI_AGAIN): the name server did not answer`,
      );
    }
    if (code === 'ENOTFOUND' || code === 'EAI_FAIL') {
      throw new ConfigError(
        `HOST "${config.host}" is a name this machine cannot resolve (${code}); set HOST (or --host) to one of its addresses, such as 127.0.0.1 or 0.0.0.0`,
      );
    }
    throw error;
  }
  // One process (WORKERS=1) serves METRICS_PORT itself; with workers, their primary does.
  const metrics = metricsOf(app);
  if (cluster.isPrimary && metrics && config.metrics.port !== undefined) {
    try {
      metricsServer = await startMetricsServer(config.metrics.port, metrics.render);
    } catch (error) {
      await app.close();
      throw error;
    }
  }
  if (cluster.isPrimary) {
    const address = app.server.address() as AddressInfo;
    const metricsPort = (metricsServer?.address() as AddressInfo | null)?.port;
    const summary = startupSummary({ config, secret, migrations: applied, address, metricsPort });
    app.log.info(isPretty(config.logFormat) ? {} : summary.fields, summary.message);
  }
  if (process.env.BOOKAPI_LOOP_STATS) reportLoopDelayOnSignal();
}

/** Applies pending migrations on a connection of its own; says which, and how many the database has. */
export async function migrateOnce(config: Config): Promise<{ applied: string[]; total: number }> {
  const db = createDatabase(config.database);
  try {
    const result = await migrateToLatest(db);
    const applied = (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    return { applied, total: (await migrationStatus(db)).length };
  } finally {
    await db.destroy();
  }
}

/** Said once, on the start that generated the secret; the start-up summary names the file every time. */
export function generatedSecretNote(file: string | undefined, config: Config): string {
  const shared =
    config.database.kind === 'postgres'
      ? '; several instances on one PostgreSQL database must share one JWT_SECRET'
      : '';
  return `JWT_SECRET is not set: generated a random secret and saved it to ${file} (mode 0600)${shared}`;
}

/** Flags on the command line win over the environment. */
function withFlags(env: NodeJS.ProcessEnv, flags: ServeFlags): NodeJS.ProcessEnv {
  const out = { ...env };
  if (flags.port !== undefined) out.PORT = flags.port;
  if (flags.host !== undefined) out.HOST = flags.host;
  if (flags.workers !== undefined) out.WORKERS = flags.workers;
  return out;
}

/**
 * Diagnostics for the benchmark harness: with BOOKAPI_LOOP_STATS=1, SIGUSR2
 * prints the event-loop delay since the previous signal as one JSON line.
 */
function reportLoopDelayOnSignal(): void {
  const resolutionMs = 10;
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  process.on('SIGUSR2', () => {
    // The histogram records whole sampling intervals; the delay is what exceeds the interval.
    const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - resolutionMs) * 100) / 100);
    process.stdout.write(
      `${JSON.stringify({ loopDelay: { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) } })}\n`,
    );
    histogram.reset();
  });
}

export { ConfigError };
