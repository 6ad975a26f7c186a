import type { FastifyInstance } from 'fastify';

/**
 * While the app closes, answers to the requests still in flight carry
 * `Connection: close`: their keep-alive connections end with them instead of
 * holding the process open until the keep-alive timeout.
 */
export function installDraining(app: FastifyInstance): void {
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
    app.server.closeIdleConnections?.();
  });
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (draining) reply.header('connection', 'close');
    done(null, payload);
  });
}
