// Hash routing (#/books, #/account, #/admin/users?q=…): the server serves one page at / and needs
// no catch-all route; every view has an address that survives a reload and the back button.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  path: string;
  params: URLSearchParams;
}

function parse(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?', 2);
  return { path: path || '/', params: new URLSearchParams(query) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parse(location.hash));
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

/** An address for a view; empty parameters are left out. */
export function href(path: string, params: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) query.set(k, v);
  const q = query.toString();
  return `#${path}${q ? `?${q}` : ''}`;
}

export function go(path: string, params: Record<string, string | undefined> = {}): void {
  const next = href(path, params);
  if (location.hash !== next) location.hash = next;
}
