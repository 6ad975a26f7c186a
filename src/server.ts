import cluster from 'node:cluster';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildApp } from './app.js';
import { loadOrCreateSecret } from './auth/secret.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { createDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { loggerOptions } from './logger.js';

async function main(): Promise<void> {
  const config = loadConfig(withCliFlags(process.env, process.argv.slice(2)));
  const resolved = resolveSecret(config);
  if (config.workers > 1 && cluster.isPrimary) return primary(resolved.config, resolved.note);

  const app = await buildApp({ config: resolved.config, logger: loggerOptions(config.logLevel) });
  if (resolved.note && cluster.isPrimary) app.log.warn(resolved.note);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    setTimeout(() => {
      app.log.error('shutdown grace period exceeded; exiting');
      process.exit(1);
    }, config.shutdownGrace * 1000).unref();
    // close() stops accepting, lets in-flight requests finish (new ones get 503), then closes the pools.
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

  await app.listen({ port: config.port, host: config.host });
  if (process.env.BOOKAPI_LOOP_STATS) reportLoopDelayOnSignal();
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

/**
 * WORKERS > 1: migrate once, then fork the workers, which share the port
 * (node:cluster hands connections out). A worker that dies is replaced; on
 * SIGTERM/SIGINT every worker drains and the primary exits when they have.
 */
async function primary(config: Config & { jwtSecret: string }, note: string | undefined): Promise<void> {
  const log = (msg: string, level = 30) =>
    process.stdout.write(`${JSON.stringify({ level, time: Date.now(), pid: process.pid, msg })}\n`);
  if (note) log(note, 40);
  const db = createDatabase(config.database);
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  let stopping = false;
  const fork = () => cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    log(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`, 50);
    fork();
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping ${config.workers} workers`);
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(1), (config.shutdownGrace + 2) * 1000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  for (let i = 0; i < config.workers; i++) fork();
  log(`started ${config.workers} workers on ${config.host}:${config.port}`);
}

/** `--workers N` and `--port N` on the command line win over the environment. */
function withCliFlags(env: NodeJS.ProcessEnv, args: string[]): NodeJS.ProcessEnv {
  const out = { ...env };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = (args[i] ?? '').split('=', 2);
    const value = inline ?? args[i + 1];
    const name = { '--workers': 'WORKERS', '--port': 'PORT', '--host': 'HOST' }[flag ?? ''];
    if (!name)
      throw new ConfigError(`unknown option ${args[i]} (known: --workers N, --port N, --host ADDRESS)`);
    if (value === undefined) throw new ConfigError(`${flag} needs a value`);
    out[name] = value;
    if (inline === undefined) i++;
  }
  return out;
}

function resolveSecret(config: Config): { config: Config & { jwtSecret: string }; note?: string } {
  if (config.jwtSecret !== undefined) return { config: { ...config, jwtSecret: config.jwtSecret } };
  const { secret, created, file } = loadOrCreateSecret(config.dataDir);
  const shared =
    config.database.kind === 'postgres' && config.jwtKeys.length === 0
      ? '; with several instances on one PostgreSQL database, give them all the same JWT_SECRET'
      : '';
  return {
    config: { ...config, jwtSecret: secret },
    note: created
      ? `JWT_SECRET is not set: generated a random secret and saved it to ${file} (mode 0600)${shared}`
      : `JWT_SECRET is not set: using the secret saved in ${file}${shared}`,
  };
}

main().catch((error: unknown) => {
  // A configuration mistake is the operator's to fix: one clear line, no stack.
  if (error instanceof ConfigError) {
    process.stderr.write(`bookapi: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `bookapi: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
