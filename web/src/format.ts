import { ApiFailure } from './api.js';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function when(iso: string | null): string {
  if (!iso) return 'never';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

/** 900 → "15 minutes", 75 → "1 minute 15 seconds". */
export function duration(seconds: number): string {
  const parts: string[] = [];
  const units: [number, string][] = [
    [3600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  let left = Math.ceil(seconds);
  for (const [size, name] of units) {
    const n = Math.floor(left / size);
    left -= n * size;
    if (n > 0 && parts.length < 2) parts.push(`${n} ${name}${n === 1 ? '' : 's'}`);
  }
  return parts.join(' ') || '1 second';
}

/** What to tell a person about a failed call: the API's own message, and how long to wait. */
export function problem(error: unknown): string {
  if (error instanceof ApiFailure) {
    return error.retryAfter === undefined
      ? error.message
      : `${error.message} — wait ${duration(error.retryAfter)}.`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** "Chrome on Linux" from a User-Agent string, for lists people read; the full text is kept for a tooltip. */
export function agent(ua: string | null): string {
  if (!ua) return 'Unknown client';
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /OPR\//.test(ua)
      ? 'Opera'
      : /Firefox\//.test(ua)
        ? 'Firefox'
        : /Chrom(?:e|ium)\//.test(ua)
          ? 'Chrome'
          : /Safari\//.test(ua)
            ? 'Safari'
            : (ua.split(/[\s/]/)[0] ?? '') || 'Unknown client';
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad|iPod/.test(ua)
      ? 'iOS'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Macintosh|Mac OS X/.test(ua)
          ? 'macOS'
          : /CrOS/.test(ua)
            ? 'ChromeOS'
            : /Linux/.test(ua)
              ? 'Linux'
              : '';
  return os ? `${browser} on ${os}` : browser;
}
