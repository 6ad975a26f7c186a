import { Counter, Gauge, type Registry } from 'prom-client';
import { type Db, observeQueries, rawDatabase } from '../db/database.js';
import { type Cell, CellHistogram } from './cells.js';

const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Kysely's root node kinds, as a bounded `operation` label; raw SQL and transaction control are `other`. */
const OPERATIONS: Readonly<Record<string, string>> = {
  SelectQueryNode: 'select',
  InsertQueryNode: 'insert',
  UpdateQueryNode: 'update',
  DeleteQueryNode: 'delete',
};

/**
 * Query-builder query durations (the hot path's direct statements are not
 * seen: they are the cheap, cached reads), failed queries, and on PostgreSQL
 * the connection pool. SQLite has no pool: one connection, used in turn.
 * Returns the function that stops the observation.
 */
export function databaseMetrics(registry: Registry, db: Db): () => void {
  const registers = [registry];
  const durations = new CellHistogram<'operation'>({
    name: 'bookapi_db_query_duration_seconds',
    help: 'Query-builder query durations, by operation (select, insert, update, delete, other)',
    labelNames: ['operation'],
    buckets: BUCKETS,
    registers,
  });
  const errors = new Counter({
    name: 'bookapi_db_query_errors_total',
    help: 'Query-builder queries that failed (timeouts, conflicts, lost connections), by operation',
    labelNames: ['operation'],
    registers,
  });
  const cells = new Map<string, Cell<'operation'>>();
  observeQueries(db, (event) => {
    const operation = OPERATIONS[event.query.query.kind] ?? 'other';
    let cell = cells.get(operation);
    if (cell === undefined) {
      cell = durations.cell({ operation });
      cells.set(operation, cell);
    }
    cell.observe(event.queryDurationMillis / 1000);
    if (event.level === 'error') errors.inc({ operation });
  });

  const driver = rawDatabase(db);
  if (driver?.kind === 'postgres') {
    const { pool } = driver;
    new Gauge({
      name: 'bookapi_db_pool_connections',
      help: 'PostgreSQL connections of the pool, by state (idle, in_use); their sum is the pool size now',
      labelNames: ['state'],
      registers,
      collect() {
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'in_use' }, pool.totalCount - pool.idleCount);
      },
    });
    new Gauge({
      name: 'bookapi_db_pool_max_connections',
      help: 'The most connections the pool may open (DB_POOL_SIZE)',
      registers,
      collect() {
        this.set(pool.options.max);
      },
    });
    new Gauge({
      name: 'bookapi_db_pool_waiting_queries',
      help: 'Queries waiting for a PostgreSQL connection of the pool',
      registers,
      collect() {
        this.set(pool.waitingCount);
      },
    });
  }
  return () => observeQueries(db, undefined);
}
