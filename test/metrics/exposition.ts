// A strict reader of the Prometheus text format 0.0.4, written from the format's specification
// (https://prometheus.io/docs/instrumenting/exposition_formats/), apart from prom-client, which
// only writes it. npm has no maintained parser: parse-prometheus-text-format (last change 2020)
// merges a histogram's label sets into one, and prom2javascript (one release, 2021) refuses NaN.

export type Labels = Record<string, string>;

export interface Sample {
  name: string;
  labels: Labels;
  value: number;
}

export interface Family {
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

/** Families by name; anything outside the format throws, naming the line. */
export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a line feed');
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  let current: string | undefined;
  const lines = text.slice(0, -1).split('\n');
  for (const [i, line] of lines.entries()) {
    const fail = (why: string): never => {
      throw new Error(`line ${i + 1}: ${why}: ${line}`);
    };
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      if (!NAME.test(name) || NAME.exec(name)?.[0] !== name) fail('bad metric name');
      const family = families.get(name) ?? { type: 'untyped' as const, help: '', samples: [] };
      if (family.samples.length > 0) fail(`${kind} after the samples of ${name}`);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) fail('unknown type');
        family.type = rest as Family['type'];
      } else {
        family.help = rest.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
      }
      families.set(name, family);
      current = name;
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = parseSample(line, fail);
    const owner = familyOf(sample.name, families, current);
    if (owner !== current) {
      // Only an untyped sample without HELP or TYPE starts a family of its own.
      if (families.has(owner)) fail('the lines of a family must be together');
      families.set(owner, { type: 'untyped', help: '', samples: [] });
      current = owner;
    }
    const family = families.get(owner) ?? fail('no family');
    if (family.type === 'histogram' && sample.name.endsWith('_bucket') && sample.labels.le === undefined)
      fail('a bucket without le');
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(key)) fail('the same series twice');
    seen.add(key);
    family.samples.push(sample);
  }
  return families;
}

/** The family a sample belongs to: the current one (a histogram's _bucket, _sum, _count too), or its own. */
function familyOf(name: string, families: Map<string, Family>, current: string | undefined): string {
  if (current === undefined) return name;
  const type = families.get(current)?.type ?? 'untyped';
  if (name === current || (SUFFIXES[type] ?? []).some((suffix) => name === `${current}${suffix}`))
    return current;
  return name;
}

function parseSample(line: string, fail: (why: string) => never): Sample {
  const name = NAME.exec(line)?.[0] ?? fail('no metric name');
  let rest = line.slice(name.length);
  const labels: Labels = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    while (!rest.startsWith('}')) {
      const label = LABEL.exec(rest)?.[0] ?? fail('bad label name');
      if (label in labels) fail(`label ${label} twice`);
      rest = rest.slice(label.length);
      if (!rest.startsWith('="')) fail('a label without ="');
      rest = rest.slice(2);
      let value = '';
      for (;;) {
        const c = rest[0] ?? fail('an unterminated label value');
        if (c === '"') break;
        if (c === '\\') {
          const escaped = rest[1];
          if (escaped === 'n') value += '\n';
          else if (escaped === '\\' || escaped === '"') value += escaped;
          else fail('a bad escape');
          rest = rest.slice(2);
        } else {
          if (c === '\n') fail('a line feed in a label value');
          value += c;
          rest = rest.slice(1);
        }
      }
      labels[label] = value;
      rest = rest.slice(1);
      if (rest.startsWith(',')) rest = rest.slice(1);
      else if (!rest.startsWith('}')) fail('labels must be separated by commas');
    }
    rest = rest.slice(1);
  }
  const match = /^ (\S+)( -?\d+)?$/.exec(rest) ?? fail('expected " value [timestamp]"');
  return { name, labels, value: parseValue(match[1] ?? '', fail) };
}

function parseValue(text: string, fail: (why: string) => never): number {
  const lower = text.toLowerCase();
  if (lower === 'nan') return Number.NaN;
  if (lower === '+inf' || lower === 'inf') return Number.POSITIVE_INFINITY;
  if (lower === '-inf') return Number.NEGATIVE_INFINITY;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) fail(`bad value ${text}`);
  return Number(text);
}
