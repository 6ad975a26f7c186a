import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Collects every route's schema into one OpenAPI 3.1 document. */
export const openapi = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'bookapi',
          version: '0.1.0',
          description:
            'A book library secured by authentication decorators. Send the token from POST /login ' +
            'as `Authorization: Bearer <token>` or `x-access-token: <token>`.',
        },
        tags: [
          { name: 'auth', description: 'Accounts and tokens' },
          { name: 'books', description: 'The library' },
          { name: 'health', description: 'Probes for load balancers' },
        ],
        components: {
          securitySchemes: {
            bearerAuth: {
              type: 'http',
              scheme: 'bearer',
              description:
                'The access token of a password login (a JWT), or a personal access token (bkp_…) holding the scopes the operation lists.',
            },
            accessToken: { type: 'apiKey', in: 'header', name: 'x-access-token' },
          },
        },
      },
    });
  },
  { name: 'openapi' },
);

/**
 * The docs UI, served from the files bundled in @fastify/swagger-ui (no CDN,
 * works offline). It lives outside the guarded API context: it is static and
 * public by nature, and reads the document from /openapi.json.
 */
export async function docsUi(app: FastifyInstance): Promise<void> {
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { url: '/openapi.json', validatorUrl: null, deepLinking: true },
  });
}
