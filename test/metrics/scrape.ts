// Reading /metrics in tests: the exposition parsed strictly (exposition.ts), and small look-ups.
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { type Family, type Labels, parseExposition } from './exposition.js';

export type Metrics = Map<string, Family>;

export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

export function parseMetrics(text: string): Metrics {
  return parseExposition(text);
}

export async function scrape(app: FastifyInstance, token: string): Promise<Metrics> {
  const res = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], PROMETHEUS_TEXT);
  return parseMetrics(res.body);
}

const matches = (labels: Labels, wanted: Labels) =>
  Object.entries(wanted).every(([name, value]) => labels[name] === value);

/** The value of the one series of a counter or gauge with these labels (undefined when there is none). */
export function value(metrics: Metrics, name: string, labels: Labels = {}): number | undefined {
  const found = (metrics.get(name)?.samples ?? []).filter(
    (s) => s.name === name && matches(s.labels, labels),
  );
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)} names one series, not ${found.length}`);
  return found[0]?.value;
}

export interface HistogramSeries {
  /** Cumulative counts by upper bound, as written (`0.005`, `+Inf`). */
  buckets: Record<string, number>;
  sum: number;
  count: number;
}

/** The one series of a histogram with exactly these labels. */
export function histogram(metrics: Metrics, name: string, labels: Labels): HistogramSeries | undefined {
  const family = metrics.get(name);
  assert.equal(family?.type, 'histogram', `${name} is a histogram`);
  const exactly = (l: Labels) => {
    const { le: _, ...rest } = l;
    return matches(rest, labels) && Object.keys(rest).length === Object.keys(labels).length;
  };
  const samples = (family?.samples ?? []).filter((s) => exactly(s.labels));
  if (samples.length === 0) return undefined;
  const buckets: Record<string, number> = {};
  for (const s of samples) if (s.name === `${name}_bucket`) buckets[s.labels.le ?? '?'] = s.value;
  const one = (suffix: string) => {
    const found = samples.filter((s) => s.name === `${name}${suffix}`);
    assert.equal(found.length, 1, `${name}${suffix} ${JSON.stringify(labels)}`);
    return found[0]?.value ?? Number.NaN;
  };
  return { buckets, sum: one('_sum'), count: one('_count') };
}

/** Every value a label takes in a metric. */
export function labelValues(metrics: Metrics, name: string, label: string): Set<string> {
  const samples = metrics.get(name)?.samples ?? [];
  return new Set(samples.flatMap((s) => (s.labels[label] === undefined ? [] : [s.labels[label]])));
}
