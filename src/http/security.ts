import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Secure headers on every answer, errors included: helmet's defaults
 * (nosniff, frame denial, a strict CSP…), `Cache-Control: no-store` because
 * answers carry tokens and private data, and CORS only for listed origins.
 */
export const security = fp(
  async (app: FastifyInstance, opts: { corsOrigins: readonly string[] }) => {
    await app.register(helmet, {
      global: true,
      // upgrade-insecure-requests would make a browser fetch the docs' scripts over https from a
      // server that speaks plain HTTP behind no proxy: the page stays blank. TLS is the proxy's job.
      contentSecurityPolicy: { useDefaults: true, directives: { upgradeInsecureRequests: null } },
    });
    // A callback hook, not an async one: it runs on every request and needs no promise.
    app.addHook('onRequest', (_req, reply, done) => {
      reply.header('cache-control', 'no-store');
      done();
    });
    if (opts.corsOrigins.length > 0) {
      await app.register(cors, {
        origin: [...opts.corsOrigins],
        methods: ['GET', 'POST', 'PATCH', 'DELETE'],
        allowedHeaders: ['authorization', 'x-access-token', 'content-type'],
        exposedHeaders: ['link', 'location', 'retry-after'],
        maxAge: 600,
      });
    }
  },
  { name: 'security' },
);
