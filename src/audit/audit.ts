import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { clientOf } from '../http/client.js';
import type { Observer } from '../metrics/observer.js';
import { type AuditEvent, MESSAGES, WARNINGS } from './events.js';
import { insertEvent } from './repository.js';

/** A name typed at a failed login is kept this long at most (it may be a mistyped password). */
const MAX_USERNAME = 64;
/**
 * A client that keeps knocking after a 429 would write a row per request: a
 * throttled login is persisted once per client address per minute; each one
 * is still logged and counted.
 */
const REPEAT_MS = 60_000;
const MAX_REPEATS_REMEMBERED = 10_000;

/**
 * Records auth events: one structured log line (as before), one row in
 * audit_events, one count for the metrics. Only the routes that change
 * something record, so the authenticated reads write nothing.
 *
 * The row is written after the change it describes has committed, and the
 * answer waits for it: a client that reads its activity next sees the event.
 * A failed write is logged at error level with the whole event, never
 * turned into a failed request — the change it describes has happened.
 */
export class Audit {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly observer: Observer,
  ) {}

  private readonly recent = new Map<string, number>();

  async record(log: FastifyBaseLogger, event: AuditEvent): Promise<void> {
    const { type, outcome, actor, subject, session, client, detail } = event;
    const username = event.username === undefined ? undefined : cleanName(event.username);
    const fields = {
      event: type,
      outcome,
      ...(subject ? { user: subject } : {}),
      ...(actor && actor !== subject ? { actor } : {}),
      ...(username !== undefined ? { username } : {}),
      ...(session ? { session } : {}),
      ...(client ? { ip: client.ip } : {}),
      ...detail,
    };
    if (WARNINGS.has(type)) log.warn(fields, MESSAGES[type]);
    else log.info(fields, MESSAGES[type]);
    this.observer.authEvent(type, outcome);
    // Per address, not per name: a client trying a new name each time is one row a minute.
    if (type === 'login.throttled' && this.repeated(client?.ip ?? '')) return;
    try {
      await insertEvent(this.db, {
        at: this.clock.now(),
        type,
        outcome,
        actor_id: actor ?? null,
        subject_id: subject ?? null,
        username: username ?? null,
        session_id: session ?? null,
        ip: client?.ip ?? null,
        user_agent: client?.userAgent ?? null,
        detail: detail === undefined ? null : JSON.stringify(detail),
      });
    } catch (error) {
      log.error({ err: error, audit: fields }, 'audit event not persisted');
    }
  }

  /** An event users caused on their own account, from this request: actor and subject are them. */
  bySelf(
    req: FastifyRequest,
    user: { publicId: string },
    event: Omit<AuditEvent, 'actor' | 'subject' | 'client'>,
  ): Promise<void> {
    return this.record(req.log, {
      ...event,
      actor: user.publicId,
      subject: user.publicId,
      client: clientOf(req),
    });
  }

  private repeated(key: string): boolean {
    const now = this.clock.now();
    const last = this.recent.get(key);
    if (last !== undefined && now - last < REPEAT_MS) return true;
    this.recent.delete(key);
    if (this.recent.size >= MAX_REPEATS_REMEMBERED) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
    this.recent.set(key, now);
    return false;
  }
}

/**
 * A name as typed at a failed login: shown to admins, so without control or
 * format characters (a NUL PostgreSQL cannot store, escapes, bidi overrides),
 * and cut by code point, never inside a surrogate pair.
 */
function cleanName(name: string): string {
  return Array.from(name.replace(/[\p{Cc}\p{Cf}\p{Cs}]/gu, ''))
    .slice(0, MAX_USERNAME)
    .join('');
}
