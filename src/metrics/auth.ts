import { Counter, type Registry } from 'prom-client';
import { AUDIT_TYPES } from '../audit/events.js';
import type { Observer } from './observer.js';

const TYPES: ReadonlySet<string> = new Set(AUDIT_TYPES);
const OUTCOMES: ReadonlySet<string> = new Set(['success', 'failure', 'rotated', 'grace_replay']);

const LOGIN_OUTCOMES: Readonly<Record<string, string>> = {
  'login.success': 'success',
  'login.failure': 'failure',
  'login.throttled': 'throttled',
  'login.disabled': 'disabled',
};

/** Error codes are constants of the code, but a label set must stay bounded whatever is reported. */
const REASON = /^[A-Z][A-Z0-9_]{0,63}$/;
const MAX_REASONS = 64;

/**
 * The Observer the auth code reports to, as Prometheus counters. Labels come
 * from fixed lists (event types, outcomes, error codes), never from a request:
 * no user, name or token ever becomes a label.
 */
export class AuthMetrics implements Observer {
  private readonly logins: Counter<'outcome'>;
  private readonly rejections: Counter<'reason'>;
  private readonly events: Counter<'type' | 'outcome'>;
  private readonly reasons = new Set<string>();
  private readonly refreshes = { rotated: 0, grace_replay: 0, reuse_detected: 0 };

  /**
   * `refused401`: how many POST /token/refresh were answered 401. Every one is
   * a refresh token refused (REFRESH_INVALID), a detected reuse among them;
   * no audit event tells the others apart, so `invalid` is the difference.
   */
  constructor(registry: Registry, refused401: () => number) {
    const registers = [registry];
    const refreshes = this.refreshes;
    // Reuse is counted before its 401 is answered: the difference may lag behind, never run ahead,
    // and the highest value seen keeps the counter from ever going down.
    let invalid = 0;
    this.logins = new Counter({
      name: 'bookapi_auth_logins_total',
      help: 'Password logins by outcome (success, failure, throttled, disabled)',
      labelNames: ['outcome'],
      registers,
    });
    new Counter({
      name: 'bookapi_auth_refresh_total',
      help: 'Refresh-token presentations by outcome (rotated, grace_replay, reuse_detected, invalid)',
      labelNames: ['outcome'],
      registers,
      collect() {
        invalid = Math.max(invalid, refused401() - refreshes.reuse_detected);
        this.reset();
        for (const [outcome, count] of Object.entries(refreshes)) this.inc({ outcome }, count);
        this.inc({ outcome: 'invalid' }, invalid);
      },
    });
    this.rejections = new Counter({
      name: 'bookapi_auth_token_rejections_total',
      help: 'Tokens refused, by error code',
      labelNames: ['reason'],
      registers,
    });
    this.events = new Counter({
      name: 'bookapi_auth_events_total',
      help: 'Audit events by type and outcome',
      labelNames: ['type', 'outcome'],
      registers,
    });
    // Every series a dashboard expects exists from the start, at 0.
    for (const outcome of ['success', 'failure', 'throttled', 'disabled']) this.logins.inc({ outcome }, 0);
  }

  authEvent(type: string, outcome: string): void {
    this.events.inc({
      type: TYPES.has(type) ? type : 'other',
      outcome: OUTCOMES.has(outcome) ? outcome : 'other',
    });
    const login = LOGIN_OUTCOMES[type];
    if (login !== undefined) this.logins.inc({ outcome: login });
    else if (type === 'refresh') this.refreshes[outcome === 'grace_replay' ? 'grace_replay' : 'rotated']++;
    else if (type === 'refresh.reuse_detected') this.refreshes.reuse_detected++;
  }

  tokenRejected(reason: string): void {
    if (!this.reasons.has(reason)) {
      if (!REASON.test(reason) || this.reasons.size >= MAX_REASONS) reason = 'OTHER';
      this.reasons.add(reason);
    }
    this.rejections.inc({ reason });
  }
}
