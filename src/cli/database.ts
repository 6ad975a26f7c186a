import { type Config, loadConfig } from '../config.js';
import { createDatabase, type Db } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { describeDatabase } from '../process/summary.js';

/**
 * Runs `work` on the configured database, closing it afterwards whatever
 * happens; migrated first (as the server would be) unless `migrate` is false.
 */
export async function withDatabase<T>(
  work: (db: Db, config: Config) => Promise<T>,
  options: { migrate: boolean } = { migrate: true },
): Promise<T> {
  const config = loadConfig();
  const db = createDatabase(config.database);
  try {
    if (options.migrate) await migrateToLatest(db);
    return await work(db, config);
  } finally {
    await db.destroy();
  }
}

export { describeDatabase };
