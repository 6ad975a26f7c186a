import http from 'node:http';
import { Registry } from 'prom-client';

/** METRICS_PORT listens here only: whoever reaches it is on this machine, so it asks for no token. */
export const METRICS_HOST = '127.0.0.1';

const HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

/**
 * A plain node:http listener for Prometheus on 127.0.0.1: GET /metrics and
 * nothing else. Apart from the API (no routes, hooks or auth of its own to
 * get wrong), in the process that can answer for all its workers.
 */
export async function startMetricsServer(port: number, render: () => Promise<string>): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    // A page on this machine could reach 127.0.0.1 through a rebound DNS name: only our own names.
    const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
    if (host !== '127.0.0.1' && host !== 'localhost')
      return end(res, 421, 'Misdirected request: ask for 127.0.0.1 or localhost\n');
    const path = req.url?.split('?')[0];
    if (path !== '/metrics') return end(res, 404, 'Not found: the metrics are at /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return end(res, 405, 'Method not allowed\n');
    }
    render().then(
      (text) => end(res, 200, text, Registry.PROMETHEUS_CONTENT_TYPE),
      () => end(res, 503, 'Metrics unavailable, try again\n'),
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'EADDRINUSE'
          ? 'is already in use'
          : error.code === 'EACCES'
            ? 'needs privileges'
            : error.message;
      reject(
        new Error(
          `cannot listen on ${METRICS_HOST}:${port} for the metrics: port ${port} ${why} (set METRICS_PORT)`,
        ),
      );
    });
    server.listen(port, METRICS_HOST, resolve);
  });
  return server;
}

function end(
  res: http.ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { ...HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
