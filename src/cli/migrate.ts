import { ConfigError, loadConfig } from '../config.js';
import { createDatabase } from '../db/database.js';
import { migrateDown, migrateToLatest } from '../db/migrate.js';

/** `npm run db:migrate` (to latest) or `npm run db:migrate -- down` (undo the last one). */
async function main(): Promise<void> {
  const direction = process.argv[2] ?? 'latest';
  if (direction !== 'latest' && direction !== 'down') {
    throw new ConfigError(`usage: db:migrate [latest|down], got "${direction}"`);
  }
  const db = createDatabase(loadConfig().database);
  try {
    const result = direction === 'down' ? await migrateDown(db) : await migrateToLatest(db);
    const done = result.results ?? [];
    if (done.length === 0) console.log('database is up to date');
    for (const r of done) console.log(`${r.direction === 'Up' ? 'applied' : 'reverted'} ${r.migrationName}`);
  } finally {
    await db.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bookapi: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
