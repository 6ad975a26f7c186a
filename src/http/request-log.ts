import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
type Level = (typeof LEVELS)[number];
type LogFn = (...args: unknown[]) => void;

/**
 * Fastify gives every request a child logger that carries the request id;
 * pino builds one in ~2 µs whether or not the request logs anything. Where
 * requests are not logged (a level above info) the child is built the first
 * time the request does log — a warning or an error, with its id as always.
 * At info and below, where every request logs, it is pino's own child.
 */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  opts: ChildLoggerOptions,
): FastifyBaseLogger {
  const values = (logger as { levels?: { values?: Record<string, number> } }).levels?.values;
  const level = opts.level ?? logger.level;
  const threshold = values?.[level];
  if (values === undefined || threshold === undefined || threshold <= (values.info ?? 30))
    return logger.child(bindings, opts);
  return new LazyChild(logger, bindings, opts, level, values, threshold) as unknown as FastifyBaseLogger;
}

class LazyChild {
  private built: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly opts: ChildLoggerOptions,
    readonly level: string,
    private readonly values: Record<string, number>,
    private readonly threshold: number,
  ) {}

  child(bindings: Bindings, opts?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, opts);
  }

  isLevelEnabled(level: string): boolean {
    return (this.values[level] ?? Number.POSITIVE_INFINITY) >= this.threshold;
  }

  silent(): void {}

  private real(): FastifyBaseLogger {
    this.built ??= this.parent.child(this.bindings, this.opts);
    return this.built;
  }

  /** A level's method: nothing below the threshold, the real child's from it on. */
  static method(level: Level): LogFn {
    return function (this: LazyChild, ...args: unknown[]) {
      if ((this.values[level] ?? 0) < this.threshold) return;
      const real = this.real();
      (real[level] as LogFn).apply(real, args);
    };
  }
}

for (const level of LEVELS)
  Object.defineProperty(LazyChild.prototype, level, { value: LazyChild.method(level) });
