/** One fixed-window limit: at most `max` hits on `key` per window of `windowMs`. */
export interface Limit {
  readonly key: string;
  readonly max: number;
  readonly windowMs: number;
}

/** Whether a hit was counted; if not, when the (latest) full window that refused it closes, epoch ms. */
export type Admission = { readonly admitted: true } | { readonly admitted: false; readonly resetAt: number };

/**
 * Where throttling counters live: the database by default (shared by every
 * worker and instance on it, kept across restarts), Redis when configured.
 */
export interface CounterStore {
  /**
   * Counts one hit on every key, atomically, or — when any key is already at
   * its max — on none: a refused attempt counts for nothing, so hammering a
   * limit neither extends it nor spills into the other counters.
   */
  hit(limits: readonly Limit[], now: number): Promise<Admission>;
  /** Takes back one hit from each key: never below zero, never a new key, windows keep their end. */
  takeBack(keys: readonly string[], now: number): Promise<void>;
  /** False while the store cannot be reached, for the readiness probe. */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}
