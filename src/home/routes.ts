import Negotiator from 'negotiator';
import { Type } from 'typebox';
import { publicRoute } from '../auth/decorators.js';
import { type Reply, type Req, route } from '../http/route.js';
import { VERSION } from '../version.js';
import { CLIENT_PAGE_HEADERS, ClientPage } from './client.js';

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

// No script, no style (its data: icon is an image): the client's strict headers fit it too.
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>bookapi</title></head>
<body><h1>bookapi ${VERSION}</h1>
<p>This is a JSON API for a book library. Its documentation, where you can try every call: <a href="/docs">/docs</a>.</p>
<p>The OpenAPI document: <a href="/openapi.json">/openapi.json</a>.</p>
<p>The web client is not built: run <code>npm run build</code>.</p></body></html>
`;

/**
 * Whether the client prefers HTML to JSON, by the Accept header's q-values
 * (RFC 9110 §12.5.1): a browser's `text/html,…,*\/*;q=0.8` does; `*\/*`, no
 * header, `text/html;q=0` or JSON ranked higher do not.
 */
function prefersPage(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return new Negotiator({ headers: { accept } }).mediaType(['application/json', 'text/html']) === 'text/html';
}

export class HomeRoutes {
  private readonly client = new ClientPage();

  @route({ method: 'GET', url: '/', schema: HomeSchema })
  @publicRoute
  async home(req: Req<typeof HomeSchema>, reply: Reply<typeof HomeSchema>) {
    // A browser gets the web client (or, not built, a page with a link); an API client gets JSON.
    // Caches must keep the two apart.
    reply.header('vary', 'Accept');
    if (prefersPage(req.headers.accept)) {
      const client = this.client.get();
      if (client !== undefined)
        return reply
          .headers(CLIENT_PAGE_HEADERS)
          .type('text/html; charset=utf-8')
          .send(client as never);
      return reply
        .headers(CLIENT_PAGE_HEADERS)
        .type('text/html; charset=utf-8')
        .send(PAGE as never);
    }
    return { name: 'bookapi', version: VERSION, docs: '/docs', openapi: '/openapi.json' };
  }
}
