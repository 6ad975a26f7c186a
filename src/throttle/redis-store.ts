import { Redis } from 'ioredis';
import { errors } from '../errors.js';
import type { CounterStore, Window } from './store.js';

// INCR and the window's expiry in one atomic step, so concurrent instances
// never see a counter without an expiry (which would lock a key out forever).
const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
`;

/**
 * Throttling counters shared by every instance through Redis. Redis's own
 * clock closes the windows. If Redis is unreachable, requests that need a
 * counter get 503 rather than skipping the limit.
 */
export class RedisCounterStore implements CounterStore {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly prefix = 'bookapi:',
  ) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
    // Reconnection is automatic; the error event must have a listener or it is thrown.
    this.redis.on('error', () => {});
  }

  async increment(key: string, windowMs: number, now: number): Promise<Window> {
    const reply = await this.call(() => this.redis.eval(INCREMENT, 1, this.prefix + key, String(windowMs)));
    const [count = 0, ttl = 0] = reply as number[];
    return { count, resetAt: now + Math.max(ttl, 0) };
  }

  async decrement(key: string): Promise<void> {
    await this.call(() => this.redis.decr(this.prefix + key));
  }

  async reset(key: string): Promise<void> {
    await this.call(() => this.redis.del(this.prefix + key));
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch {
      throw errors.unavailable();
    }
  }
}
