import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { DbCounterStore } from './db-store.js';
import { RedisCounterStore } from './redis-store.js';
import type { CounterStore } from './store.js';

/** Counters in Redis when REDIS_URL is set; otherwise in the app's own database. */
export async function openCounterStore(
  config: Config,
  db: Db,
  log: FastifyBaseLogger,
): Promise<CounterStore> {
  if (!config.redisUrl) return new DbCounterStore(db, log);
  const store = new RedisCounterStore(config.redisUrl, config.redisPrefix, log);
  await store.connect();
  return store;
}
