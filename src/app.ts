import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { ensureInitialAdmin } from './admin/initial-admin.js';
import { AdminRoutes } from './admin/routes.js';
import { Audit } from './audit/audit.js';
import { AuditRoutes } from './audit/routes.js';
import { AuthCache } from './auth/auth-cache.js';
import { publicRoute } from './auth/decorators.js';
import { installGuard, registerPublicPlugin } from './auth/guard.js';
import { loadKeyRing } from './auth/keys.js';
import { getDummyHash } from './auth/passwords.js';
import { AuthRoutes } from './auth/routes.js';
import { Sessions } from './auth/sessions.js';
import { createTokens } from './auth/tokens.js';
import { BookRoutes } from './books/routes.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { createDatabase, type Db } from './db/database.js';
import { openHotPath } from './db/hot-path.js';
import { migrateAtStart } from './db/migrate.js';
import { HealthRoutes } from './health/routes.js';
import { clientAssets } from './home/client.js';
import { HomeRoutes } from './home/routes.js';
import { connectionOptions, limitConnections } from './http/connections.js';
import { installDraining } from './http/draining.js';
import { clientErrorHandler, frameworkErrors, installErrorHandling } from './http/errors.js';
import { installJsonParser } from './http/json-body.js';
import { docsUi, openapi } from './http/openapi.js';
import { lazyChildLogger } from './http/request-log.js';
import { mountRoutes } from './http/route.js';
import { asPages, security } from './http/security.js';
import { validatorCompiler } from './http/validation.js';
import { installWireAnswers } from './http/wire-answers.js';
import { Retention } from './jobs/retention.js';
import { installMetrics } from './metrics/install.js';
import { PersonalTokenRoutes } from './personal-tokens/routes.js';
import { TokenUsage } from './personal-tokens/usage.js';
import { DeviceRoutes } from './sessions/routes.js';
import { openCounterStore } from './throttle/counters.js';
import type { CounterStore } from './throttle/store.js';
import { Throttle } from './throttle/throttle.js';
import { MeRoutes } from './users/routes.js';

export interface AppOptions {
  /** The validated configuration, with the JWT secret already resolved. */
  config: Config & { readonly jwtSecret: string };
  clock?: Clock;
  logger?: FastifyServerOptions['logger'];
  /** An open database to use instead of opening config.database; the app closes it either way. */
  db?: Db;
  /** Where throttling counters live: the database, or Redis with REDIS_URL, by default; the app closes it. */
  counters?: CounterStore;
}

export const BODY_LIMIT = 100 * 1024;

/**
 * Builds the whole API without listening: the server entry listens, tests
 * call `inject`. Migrations run before the first route is mounted.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const app = Fastify({
    logger: options.logger ?? false,
    childLoggerFactory: lazyChildLogger,
    bodyLimit: BODY_LIMIT,
    ...connectionOptions(config.connections),
    clientErrorHandler,
    frameworkErrors,
    // X-Forwarded-For is believed only from these proxies; otherwise req.ip is the socket's address.
    trustProxy: config.trustProxy.length > 0 ? [...config.trustProxy] : false,
  });
  limitConnections(app, config.connections);
  installWireAnswers(app);
  app.setValidatorCompiler(validatorCompiler);
  // Fastify parses text/plain by default; this API speaks JSON only (415 otherwise).
  app.removeContentTypeParser('text/plain');
  installJsonParser(app);

  const db =
    options.db ??
    createDatabase(config.database, {
      poolSize: config.dbPoolSize,
      queryTimeout: config.dbQueryTimeout * 1000,
      onPoolError: (error) => app.log.warn({ err: error }, 'database connection lost; it will be replaced'),
    });
  app.addHook('onClose', async () => db.destroy());
  await migrateAtStart(config.database, db);
  // The hot path's direct statements (after the migrations: they read the version rows).
  const hot = openHotPath(db);
  if (hot) app.addHook('onClose', async () => hot.close());
  void getDummyHash(); // computed now so the first unknown-user login is not faster than the rest
  if (config.initialAdmin) await ensureInitialAdmin(db, config.initialAdmin, clock, app.log);

  const ring = loadKeyRing(config.jwtKeys);
  const tokens = createTokens({
    secret: config.jwtSecret,
    ring,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    ttlSeconds: config.accessTokenTtl,
    clock,
  });
  // The metrics, when METRICS_TOKEN or METRICS_PORT turn them on; otherwise nothing counts.
  const observer = installMetrics(app, { config: config.metrics, db });
  const audit = new Audit(db, clock, observer);
  const sessions = new Sessions({
    db,
    tokens,
    clock,
    refreshTokenTtl: config.refreshTokenTtl,
    refreshIdleTtl: config.refreshIdleTtl,
    refreshReuseGrace: config.refreshReuseGrace,
    secret: config.jwtSecret,
    audit,
  });
  const counters = options.counters ?? (await openCounterStore(config, db, app.log));
  app.addHook('onClose', async () => counters.close());
  const throttle = new Throttle(counters, config.throttle, clock);

  installErrorHandling(app);
  installDraining(app);
  // Before the guard: its only route is CORS's catch-all OPTIONS, which never
  // runs a handler of ours (the preflight is answered in CORS's own hook).
  await app.register(security, { corsOrigins: config.corsOrigins });
  // From here on every route is checked: deny by default.
  const personalTokens = config.personalAccessTokens ? new TokenUsage(db, app.log) : undefined;
  // Before the database closes: the uses seen since the last write are written.
  if (personalTokens) app.addHook('onClose', async () => personalTokens.close());
  installGuard(app, {
    auth: new AuthCache(db, hot),
    hot,
    tokens,
    clock,
    freshTokenTtl: config.freshTokenTtl,
    personalTokens,
    observer,
  });
  await app.register(openapi);
  await registerPublicPlugin(app, asPages(docsUi));
  await registerPublicPlugin(app, clientAssets);

  mountRoutes(app, new HomeRoutes());
  mountRoutes(app, new HealthRoutes({ db, counters }));
  mountRoutes(
    app,
    new AuthRoutes({ db, clock, sessions, throttle, ring, audit, refreshTokenTtl: config.refreshTokenTtl }),
  );
  mountRoutes(app, new MeRoutes({ db, clock, throttle, audit }));
  mountRoutes(app, new DeviceRoutes({ db, clock, audit, refreshIdleTtl: config.refreshIdleTtl }));
  mountRoutes(app, new AuditRoutes({ db }));
  if (config.personalAccessTokens) mountRoutes(app, new PersonalTokenRoutes({ db, clock, audit }));
  mountRoutes(app, new AdminRoutes({ db, clock, audit }));
  mountRoutes(app, new BookRoutes({ db, clock, hot }));
  app.get(
    '/openapi.json',
    { schema: { hide: true } },
    publicRoute(async () => app.swagger()),
  );

  const retention = new Retention({ db, clock, log: app.log, auditRetention: config.auditRetention });
  app.addHook('onReady', async () => retention.start());
  app.addHook('onClose', async () => retention.stop());
  app.decorate('retention', retention);
  app.decorate('tokenUsage', personalTokens);

  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The pruning of old audit events, sessions and tokens (runs by itself; tests call runOnce). */
    retention: Retention;
    /** Personal access tokens' last uses, written once a minute (tests call flush). */
    tokenUsage: TokenUsage | undefined;
  }
}
