import { buildApp } from './app.js';
import { loadOrCreateSecret } from './auth/secret.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { loggerOptions } from './logger.js';

/** Grace period for in-flight requests on SIGTERM/SIGINT before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const resolved = resolveSecret(config);
  const app = await buildApp({ config: resolved.config, logger: loggerOptions(config.logLevel) });
  if (resolved.note) app.log.warn(resolved.note);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    setTimeout(() => {
      app.log.error('shutdown grace period exceeded; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);

  await app.listen({ port: config.port, host: config.host });
}

function resolveSecret(config: Config): { config: Config & { jwtSecret: string }; note?: string } {
  if (config.jwtSecret !== undefined) return { config: { ...config, jwtSecret: config.jwtSecret } };
  const { secret, created, file } = loadOrCreateSecret(config.dataDir);
  return {
    config: { ...config, jwtSecret: secret },
    note: created
      ? `JWT_SECRET is not set: generated a random secret and saved it to ${file} (mode 0600)`
      : `JWT_SECRET is not set: using the secret saved in ${file}`,
  };
}

main().catch((error: unknown) => {
  // A configuration mistake is the operator's to fix: one clear line, no stack.
  if (error instanceof ConfigError) {
    process.stderr.write(`bookapi: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `bookapi: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
