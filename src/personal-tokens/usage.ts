import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import { touchTokens } from './repository.js';

/** How often the uses seen are written: "last used" is known to the minute. */
const FLUSH_MS = 60_000;

/**
 * When each personal access token was last used, without a write per
 * request: uses are remembered in memory and written once a minute (and at
 * shutdown), off the request path. The column is not one the auth version
 * follows, so these writes never empty a cache.
 */
export class TokenUsage {
  private pending = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly log: FastifyBaseLogger,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  used(tokenId: string, at: number): void {
    this.pending.set(tokenId, at);
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const uses = this.pending;
    this.pending = new Map();
    try {
      await touchTokens(this.db, uses);
    } catch (error) {
      this.log.warn({ err: error }, 'could not record when personal access tokens were last used');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
