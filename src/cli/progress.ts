import cliProgress from 'cli-progress';

export interface Progress {
  update(rows: number, rejected: number): void;
  stop(): void;
}

/**
 * Progress of a long job measured in bytes of its input: a bar with rows/s
 * and the time left on a terminal, a plain line every few seconds otherwise
 * (a log file or CI has no use for redrawn bars).
 */
export function progress(total: number, position: () => number, stream = process.stderr): Progress {
  const started = Date.now();
  const rate = (rows: number) => Math.round(rows / Math.max((Date.now() - started) / 1000, 0.001));
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format:
          '{bar} {percentage}% | {rows} rows, {rejected} rejected | {rate} rows/s | ETA {eta_formatted}',
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(total, 1), 0, { rows: 0, rejected: 0, rate: 0 });
    return {
      update: (rows, rejected) => bar.update(position(), { rows, rejected, rate: rate(rows) }),
      stop: () => {
        bar.update(Math.max(total, 1));
        bar.stop();
      },
    };
  }
  let last = started;
  return {
    update(rows, rejected) {
      if (Date.now() - last < 2000) return;
      last = Date.now();
      const percent = total > 0 ? Math.floor((position() / total) * 100) : 100;
      stream.write(
        `${rows} rows imported, ${rejected} rejected (${rate(rows)} rows/s, ${percent}% of the file read)\n`,
      );
    },
    stop() {},
  };
}
