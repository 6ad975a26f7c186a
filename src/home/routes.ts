import { Type } from 'typebox';
import { publicRoute } from '../auth/decorators.js';
import { type Reply, type Req, route } from '../http/route.js';
import { PAGE_HEADERS } from '../http/security.js';
import { VERSION } from '../version.js';

const HomeSchema = {
  tags: ['health'],
  summary: 'Where to start: the API documentation',
  response: {
    200: Type.Object({
      name: Type.String(),
      version: Type.String(),
      docs: Type.String(),
      openapi: Type.String(),
    }),
  },
} as const;

// No script, no style; sent with the browser page headers (its data: icon is an image).
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>bookapi</title></head>
<body><h1>bookapi ${VERSION}</h1>
<p>This is a JSON API for a book library. Its documentation, where you can try every call: <a href="/docs">/docs</a>.</p>
<p>The OpenAPI document: <a href="/openapi.json">/openapi.json</a>.</p></body></html>
`;

export class HomeRoutes {
  @route({ method: 'GET', url: '/', schema: HomeSchema })
  @publicRoute
  async home(req: Req<typeof HomeSchema>, reply: Reply<typeof HomeSchema>) {
    // A browser gets a page with a link; an API client gets the same pointers as JSON.
    if (req.headers.accept?.includes('text/html')) {
      return reply
        .headers(PAGE_HEADERS)
        .type('text/html; charset=utf-8')
        .send(PAGE as never);
    }
    return { name: 'bookapi', version: VERSION, docs: '/docs', openapi: '/openapi.json' };
  }
}
