import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { API_HEADERS } from '../http/security.js';

/**
 * The web client, as `npm run build` writes it (scripts/build-web.mjs):
 * dist/web/index.html and content-hashed files in dist/web/app/. The same
 * path from src/ (run through tsx) and from dist/ (compiled).
 */
const WEB_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));
const ASSETS_DIR = `${WEB_DIR}app/`;

/**
 * The client's page: nothing but its own files (no inline script or style,
 * no eval, no other origin, not even for fonts), never framed, never cached
 * stale (its assets are: their names change with their content).
 */
export const CLIENT_PAGE_HEADERS: Readonly<Record<string, string>> = {
  ...API_HEADERS,
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-cache',
};

/**
 * The built index.html, or undefined when the client has not been built (a
 * server run from src/). Read again when the file changes, so a rebuild
 * while the server runs never serves a page naming assets that are gone.
 */
export class ClientPage {
  private html: string | undefined;
  private mtime = -1;

  get(): string | undefined {
    try {
      const file = `${WEB_DIR}index.html`;
      const { mtimeMs } = fs.statSync(file);
      if (mtimeMs !== this.mtime || this.html === undefined) {
        this.html = fs.readFileSync(file, 'utf8');
        this.mtime = mtimeMs;
      }
      return this.html;
    } catch {
      return undefined;
    }
  }
}

/**
 * /app/<file>: the client's scripts and styles, cached for a year (a new
 * build names them anew). Registered only when they exist.
 */
export async function clientAssets(app: FastifyInstance): Promise<void> {
  if (!fs.existsSync(ASSETS_DIR)) return;
  await app.register(fastifyStatic, {
    root: ASSETS_DIR,
    prefix: '/app/',
    decorateReply: false,
    index: false,
    dotfiles: 'deny',
    maxAge: '365d',
    immutable: true,
    // The build writes each file's .br and .gz beside it: sent to browsers that accept them.
    preCompressed: true,
  });
}
