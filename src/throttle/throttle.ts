import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { ThrottleConfig } from '../config.js';
import { errors } from '../errors.js';
import { usernameKey } from '../users/username.js';
import { clientKey } from './client-ip.js';
import type { CounterStore, Limit } from './store.js';

export interface LoginAttempt {
  /** The password checked out: takes this attempt back from every counter. */
  succeeded(): Promise<void>;
}

/**
 * Brute-force limits (OWASP ASVS 6.3.1, NIST SP 800-63B §5.2.2), in fixed
 * windows that close by themselves — no permanent lockout:
 * - failed logins per username and client: the guessing limit;
 * - failed logins per username from every client together: a higher ceiling
 *   for a distributed guesser, out of reach of any single client, so no one
 *   source can lock the owner out;
 * - failed logins per client, across usernames: against spraying;
 * - signups per client.
 * A username counts by its one identity (`usernameKey`), so a variant of it
 * neither escapes nor resets its budget; a client by its canonical address.
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
   * verified; `succeeded()` takes it back. Over a limit the attempt is
   * refused without looking at the password, so the right one does not help,
   * and counted nowhere, so knocking on a closed door keeps nothing closed.
   */
  async beginLogin(username: string, ip: string): Promise<LoginAttempt> {
    const { config } = this;
    const name = usernameKey(username);
    const client = clientKey(ip);
    const limits: Limit[] = [
      {
        key: `lu:${hash(name)}`,
        max: config.loginFailuresPerAccount,
        windowMs: config.loginAccountWindow * 1000,
      },
      {
        key: `lp:${hash(name, client)}`,
        max: config.loginFailuresPerUserAndIp,
        windowMs: config.loginWindow * 1000,
      },
      { key: `li:${hash(client)}`, max: config.loginFailuresPerIp, windowMs: config.loginWindow * 1000 },
    ];
    await this.admit(limits, 'Too many failed logins; try again later');
    const keys = limits.map((l) => l.key);
    return { succeeded: () => this.store.takeBack(keys, this.clock.now()) };
  }

  /** Counts every signup attempt from a client; over the limit, 429. */
  async signup(ip: string): Promise<void> {
    const limit = {
      key: `si:${hash(clientKey(ip))}`,
      max: this.config.signupsPerIp,
      windowMs: this.config.signupWindow * 1000,
    };
    await this.admit([limit], 'Too many signups from this address; try again later');
  }

  private async admit(limits: readonly Limit[], message: string): Promise<void> {
    const now = this.clock.now();
    const admission = await this.store.hit(limits, now);
    if (!admission.admitted) {
      throw errors.tooManyRequests(message, Math.ceil((admission.resetAt - now) / 1000));
    }
  }
}

/**
 * Counter keys hold 132 bits of a SHA-256 (22 base64url characters): the same
 * small size for any name, and no username or address in the counters' table or Redis.
 */
function hash(...parts: string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}
