import cors from '@fastify/cors';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors.js';
import { BASELINE_HEADERS } from './errors.js';
import { afterPrevious } from './pipelining.js';
import { lacksHost } from './wire-answers.js';

/**
 * What a JSON API needs (OWASP's REST Security Cheat Sheet): no caching of
 * answers that carry tokens and private data, no sniffing, no framing, no
 * referrer, no loading of an answer by another origin's page, HTTPS once
 * seen over HTTPS, and a CSP that allows nothing (a JSON answer opened in a
 * browser runs nothing). The same set as answers written before any hook runs.
 */
export const API_HEADERS: Readonly<Record<string, string>> = BASELINE_HEADERS;

/**
 * The docs UI is a page with scripts, styles and images of its own: a
 * browser's full set (what helmet sends by default, with no
 * upgrade-insecure-requests, which would make a browser fetch the docs'
 * scripts over https from a server that speaks plain HTTP behind no proxy).
 * Also for the home page's HTML answer.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  ...API_HEADERS,
  'content-security-policy':
    "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';" +
    "frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';" +
    "script-src-attr 'none';style-src 'self' https: 'unsafe-inline'",
  'cross-origin-opener-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

/**
 * Secure headers on every answer, errors included, set by one callback hook
 * (no promise per request), and CORS only for listed origins.
 */
export const security = fp(
  async (app: FastifyInstance, opts: { corsOrigins: readonly string[] }) => {
    app.addHook('onRequest', (req, reply, done) => {
      reply.headers(API_HEADERS);
      // Only a query with a % pays for the check.
      const q = req.url.indexOf('?');
      if (q !== -1 && req.url.includes('%', q) && !decodable(req.url.slice(q + 1))) {
        done(new ApiError(400, 'BAD_REQUEST', 'The query string is not valid percent-encoded UTF-8'));
        return;
      }
      if (req.headers.host === undefined && lacksHost(req.raw)) {
        done(new ApiError(400, 'BAD_REQUEST', 'The Host header is required'));
        return;
      }
      // The first hook of every request: nothing of it runs before the request ahead of it on its connection is answered.
      afterPrevious(req.raw, reply.raw, done);
    });
    if (opts.corsOrigins.length > 0) {
      await app.register(cors, {
        origin: [...opts.corsOrigins],
        methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
        // An OPTIONS that is not a full preflight gets an empty 204 rather than a text/plain 400.
        strictPreflight: false,
        allowedHeaders: ['authorization', 'x-access-token', 'content-type'],
        exposedHeaders: ['link', 'location', 'retry-after'],
        maxAge: 600,
      });
    }
  },
  { name: 'security' },
);

/** A plugin whose routes serve browser pages (the docs UI): the page headers instead. */
export function asPages(plugin: FastifyPluginAsync): FastifyPluginAsync {
  return async (app) => {
    app.addHook('onRequest', (_req, reply, done) => {
      reply.headers(PAGE_HEADERS);
      done();
    });
    await app.register(plugin);
  };
}

/**
 * Whether every name and value of a query decodes: the query parser keeps
 * what it cannot decode as it is, so `%FF` or a lone surrogate's `%ED%A0%80`
 * would reach a handler as text nobody sent.
 */
function decodable(query: string): boolean {
  try {
    for (const part of query.split(/[&=]/)) decodeURIComponent(part.replace(/\+/g, ' '));
    return true;
  } catch {
    return false;
  }
}
