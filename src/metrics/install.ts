import cluster from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { MetricsConfig } from '../config.js';
import type { Db } from '../db/database.js';
import { mountRoutes } from '../http/route.js';
import { AuthMetrics } from './auth.js';
import { fromPrimary, shareWithPrimary } from './cluster.js';
import { databaseMetrics } from './database.js';
import { HttpMetrics } from './http.js';
import { type Observer, silentObserver } from './observer.js';
import { passwordMetrics } from './passwords.js';
import { processMetrics } from './process.js';
import { MetricsRoutes } from './routes.js';

export interface MetricsHandle {
  /** This process's metrics in the text format (the server entry serves them on METRICS_PORT). */
  render(): Promise<string>;
}

const handles = new WeakMap<FastifyInstance, MetricsHandle>();

/** Metrics are collected when either way of reading them is configured. */
export function metricsEnabled(config: MetricsConfig): boolean {
  return config.token !== undefined || config.port !== undefined;
}

/** The metrics of an app built with them on. */
export function metricsOf(app: FastifyInstance): MetricsHandle | undefined {
  return handles.get(app);
}

/**
 * Turns the metrics on when METRICS_TOKEN or METRICS_PORT is set: the
 * request hook, the database and password observations, GET /metrics on the
 * API's port with METRICS_TOKEN, and, in a cluster worker, the primary's way
 * in. Returns the Observer the auth code reports to (silent when off).
 * Install before the routes, so the one request hook sees them all.
 */
export function installMetrics(app: FastifyInstance, deps: { config: MetricsConfig; db: Db }): Observer {
  const { config, db } = deps;
  if (!metricsEnabled(config)) return silentObserver;

  const own = new Registry();
  const http = new HttpMetrics(own);
  http.install(app);
  const observer = new AuthMetrics(own, () => http.count('/token/refresh', 'POST', 401));
  const stops = [databaseMetrics(own, db), passwordMetrics(own)];
  app.addHook('onClose', async () => {
    for (const stop of stops) stop();
  });
  const registry = Registry.merge([processMetrics(), own]);
  handles.set(app, { render: () => registry.metrics() });

  if (cluster.isWorker) shareWithPrimary([registry]);
  if (config.token !== undefined) {
    // Registered before the guard is installed: mountRoutes itself refuses a method without an
    // auth decorator, and a public route needs nothing else from the guard.
    const render = cluster.isWorker ? fromPrimary : () => registry.metrics();
    mountRoutes(app, new MetricsRoutes({ token: config.token, render }));
  }
  return observer;
}
