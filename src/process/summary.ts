import type { Config } from '../config.js';
import { redactUrl } from '../config.js';
import { VERSION } from '../version.js';
import type { ResolvedSecret } from './secret.js';

export interface StartupFacts {
  config: Config;
  secret: ResolvedSecret;
  /** Migrations this start applied, and how many the database has in all. */
  migrations: { applied: readonly string[]; total: number };
  /** The address the server listens on. */
  address: { address: string; port: number };
  /** The port METRICS_PORT's listener is bound to (METRICS_PORT=0 picks one). */
  metricsPort?: number;
}

/** Where the database is, without credentials. */
export function describeDatabase(config: Config): string {
  const db = config.database;
  return db.kind === 'sqlite' ? `SQLite ${db.file}` : `PostgreSQL ${redactUrl(db.url)}`;
}

/**
 * The one start-up line an operator reads: what runs, where, on which data,
 * and how tokens are signed. Logged at info with the same facts as fields.
 */
export function startupSummary(facts: StartupFacts): { fields: Record<string, unknown>; message: string } {
  // For people (pretty logs) the sentence says it all; collectors get the same facts as fields.
  const { config, secret, migrations, address, metricsPort } = facts;
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard
    ? '127.0.0.1'
    : address.address.includes(':')
      ? `[${address.address}]`
      : address.address;
  const url = `http://${host}:${address.port}`;
  const signing =
    config.jwtKeys.length > 0
      ? `${String(config.jwtKeys[0]?.alg)} key ${String((config.jwtKeys[0] as { kid?: string }).kid)}`
      : secret.file
        ? `HS256 with the ${secret.created ? 'newly generated' : 'generated'} secret in ${secret.file}`
        : 'HS256 with JWT_SECRET';
  const applied =
    migrations.applied.length === 0
      ? `database up to date (${migrations.total} migrations)`
      : `applied ${migrations.applied.join(', ')} (${migrations.total} migrations)`;
  const workers = `${config.workers} worker${config.workers === 1 ? '' : 's'}`;
  const throttling = config.redisUrl ? `Redis ${redactUrl(config.redisUrl)}` : 'the database';
  const listening = wildcard ? ` (all interfaces, port ${address.port})` : '';
  const metrics = describeMetrics(config, url, metricsPort);
  return {
    fields: {
      event: 'startup',
      version: VERSION,
      database: describeDatabase(config),
      migrations,
      workers: config.workers,
      url,
      docs: `${url}/docs`,
      signing,
      throttling,
      metrics: metrics ?? 'off',
    },
    message:
      `bookapi ${VERSION} ready at ${url}${listening} — docs ${url}/docs; ${describeDatabase(config)}, ` +
      `${applied}; ${workers}; tokens signed with ${signing}; login counters in ${throttling}` +
      (metrics ? `; metrics at ${metrics}` : ''),
  };
}

/** Where Prometheus reads the metrics, or undefined when they are off. */
function describeMetrics(config: Config, url: string, port: number | undefined): string | undefined {
  const where = [
    ...(config.metrics.token !== undefined ? [`${url}/metrics with METRICS_TOKEN`] : []),
    ...(config.metrics.port !== undefined ? [`http://127.0.0.1:${port ?? config.metrics.port}/metrics`] : []),
  ];
  return where.length > 0 ? where.join(' and ') : undefined;
}
