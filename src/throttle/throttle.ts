import type { Clock } from '../clock.js';
import type { ThrottleConfig } from '../config.js';
import { errors } from '../errors.js';
import type { CounterStore } from './store.js';

/**
 * Brute-force limits (OWASP ASVS 6.3.1, NIST SP 800-63B §5.2.2): failed
 * logins per username — existing or not — and per client IP, and signups per
 * IP. Windows close by themselves: there is no permanent lockout.
 */
export class Throttle {
  constructor(
    private readonly store: CounterStore,
    private readonly config: ThrottleConfig,
    private readonly clock: Clock,
  ) {}

  /**
   * Counts an attempt as a failure *before* the password is checked, so
   * parallel guesses cannot all slip in while the first ones are still being
   * verified; `succeeded()` takes the count back. Over a limit the attempt is
   * refused without looking at the password, so the right one does not help.
   */
  async beginLogin(username: string, ip: string): Promise<{ succeeded(): Promise<void> }> {
    const now = this.clock.now();
    const windowMs = this.config.loginWindow * 1000;
    const [user, address] = await Promise.all([
      this.store.increment(userKey(username), windowMs, now),
      this.store.increment(ipKey(ip), windowMs, now),
    ]);
    const exceeded = [
      user.count > this.config.loginFailuresPerUser ? user : undefined,
      address.count > this.config.loginFailuresPerIp ? address : undefined,
    ].filter((w) => w !== undefined);
    if (exceeded.length > 0) {
      const resetAt = Math.max(...exceeded.map((w) => w.resetAt));
      throw errors.tooManyRequests(
        'Too many failed logins; try again later',
        Math.ceil((resetAt - now) / 1000),
      );
    }
    return {
      // A correct password clears the username's failures and takes back this attempt from the IP's.
      succeeded: async () => {
        await Promise.all([this.store.reset(userKey(username)), this.store.decrement(ipKey(ip))]);
      },
    };
  }

  /** Counts every signup attempt from an IP; over the limit, 429. */
  async signup(ip: string): Promise<void> {
    const now = this.clock.now();
    const window = await this.store.increment(`signup:${ip}`, this.config.signupWindow * 1000, now);
    if (window.count > this.config.signupsPerIp) {
      throw errors.tooManyRequests(
        'Too many signups from this address; try again later',
        Math.ceil((window.resetAt - now) / 1000),
      );
    }
  }
}

/** Case and Unicode form folded, so "Alice" and "alice" share one budget. */
const userKey = (username: string) => `login:user:${username.normalize('NFC').toLowerCase()}`;
const ipKey = (ip: string) => `login:ip:${ip}`;
