import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { errors } from '../errors.js';
import type { Admission, CounterStore, Limit } from './store.js';

/**
 * All or nothing, in one atomic step: if any key is at its max, count none
 * and answer the longest time left; otherwise count every key. A counter is
 * never left without an expiry (one would lock its key out for good), so an
 * expiry found missing is restored rather than trusted.
 * KEYS: the counters; ARGV: max and window (ms) for each, in turn.
 */
const HIT = `
local wait = -1
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[2 * i - 1]) then
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then
      ttl = tonumber(ARGV[2 * i])
      redis.call('PEXPIRE', key, ttl)
    end
    if ttl > wait then wait = ttl end
  end
end
if wait >= 0 then return wait end
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 or redis.call('PTTL', key) < 0 then
    redis.call('PEXPIRE', key, ARGV[2 * i])
  end
end
return -1
`;

/** One hit back from each key that has one: DECR keeps the expiry, and a missing key stays missing. */
const TAKE_BACK = `
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 0
`;

/**
 * Throttling counters shared by every instance through Redis, whose own clock
 * closes the windows. While Redis is unreachable, requests that need a
 * counter get 503 rather than skipping the limit, /ready answers 503, and
 * the outage is logged once with its cause (and its end once).
 */
export class RedisCounterStore implements CounterStore {
  private readonly redis: Redis;
  private down = false;

  constructor(
    url: string,
    private readonly prefix: string,
    private readonly log: FastifyBaseLogger,
  ) {
    // No offline queue and short timeouts: while Redis is away a login fails fast instead of hanging.
    this.redis = new Redis(url, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: 2000,
      commandTimeout: 2000,
      lazyConnect: true,
    });
    // Reconnection is automatic; each failed attempt emits an error, which must have a listener.
    this.redis.on('error', (error: Error) => this.outage(error));
    this.redis.on('ready', () => this.recovered());
  }

  /** Waits for the first connection (briefly), so the first requests do not fail for nothing. */
  async connect(): Promise<void> {
    await this.redis.connect().catch((error: Error) => this.outage(error));
  }

  async hit(limits: readonly Limit[], now: number): Promise<Admission> {
    const keys = limits.map((l) => this.prefix + l.key);
    const args = limits.flatMap((l) => [String(l.max), String(l.windowMs)]);
    const wait = Number(await this.call(() => this.redis.eval(HIT, keys.length, ...keys, ...args)));
    return wait < 0 ? { admitted: true } : { admitted: false, resetAt: now + wait };
  }

  async takeBack(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const prefixed = keys.map((k) => this.prefix + k);
    await this.call(() => this.redis.eval(TAKE_BACK, prefixed.length, ...prefixed));
  }

  async healthy(): Promise<boolean> {
    try {
      await this.call(() => this.redis.ping());
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      const result = await operation();
      this.recovered();
      return result;
    } catch (error) {
      this.outage(error as Error);
      throw errors.unavailable();
    }
  }

  private outage(error: Error): void {
    if (this.down) return;
    this.down = true;
    this.log.error(
      { event: 'throttle.store_unavailable', err: error },
      'Redis (throttling counters) is unreachable; logins and signups answer 503 until it is back',
    );
  }

  private recovered(): void {
    if (!this.down) return;
    this.down = false;
    this.log.info({ event: 'throttle.store_available' }, 'Redis (throttling counters) is reachable again');
  }
}
