/** A fixed-window counter: how many hits a key has had since its window opened. */
export interface Window {
  count: number;
  /** Epoch ms when the window closes and the count starts again from zero. */
  resetAt: number;
}

/**
 * Where throttling counters live. In memory they are per process; a shared
 * store (one per deployment) makes the limits hold across instances.
 */
export interface CounterStore {
  increment(key: string, windowMs: number, now: number): Promise<Window>;
  /** Takes back one hit (never below zero); the window keeps its end. */
  decrement(key: string): Promise<void>;
  reset(key: string): Promise<void>;
}

/** Counters in a Map, swept of closed windows as it grows. */
export class MemoryCounterStore implements CounterStore {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly sweepAt = 10_000) {}

  async increment(key: string, windowMs: number, now: number): Promise<Window> {
    const current = this.windows.get(key);
    const open = current && current.resetAt > now ? current : undefined;
    const window = open
      ? { count: open.count + 1, resetAt: open.resetAt }
      : { count: 1, resetAt: now + windowMs };
    this.windows.set(key, window);
    if (this.windows.size > this.sweepAt) this.sweep(now);
    return window;
  }

  async decrement(key: string): Promise<void> {
    const window = this.windows.get(key);
    if (window && window.count > 0) window.count--;
  }

  async reset(key: string): Promise<void> {
    this.windows.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}
