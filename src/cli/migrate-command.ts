import type { Command } from 'commander';
import { migrateDown, migrateToLatest, migrationStatus, revertDropsUserData } from '../db/migrate.js';
import { describeDatabase, withDatabase } from './database.js';
import { examples } from './examples.js';
import { confirm } from './prompt.js';

/** The migrate commands decide themselves what to apply. */
const MANUAL = { migrate: false };

export function registerMigrate(program: Command): void {
  const migrate = program
    .command('migrate')
    .description('apply, revert or list database migrations (the server applies pending ones at start)')
    .addHelpText(
      'after',
      examples('bookapi migrate', 'bookapi migrate status', 'bookapi migrate down --yes'),
    );

  migrate
    .command('up', { isDefault: true })
    .description('apply every pending migration')
    .addHelpText(
      'after',
      examples('bookapi migrate up', 'DATABASE_URL=postgres://bookapi@db.internal/books bookapi migrate'),
    )
    .action(() =>
      withDatabase(async (db, config) => {
        console.log(`database: ${describeDatabase(config)}`);
        const done = (await migrateToLatest(db)).results ?? [];
        if (done.length === 0) console.log('up to date: nothing to apply');
        for (const r of done) console.log(`applied ${r.migrationName}`);
      }, MANUAL),
    );

  migrate
    .command('down')
    .description('revert the most recently applied migration')
    .option('-y, --yes', 'do not ask before reverting a migration that deletes stored data')
    .addHelpText(
      'after',
      `
Reverting 0001, 0002, 0008 or 0009 deletes accounts and books, sessions, the audit log or
personal access tokens; you are asked first (or pass --yes).

Examples:
  $ bookapi migrate status
  $ bookapi migrate down`,
    )
    .action((options: { yes?: boolean }) =>
      withDatabase(async (db, config) => {
        console.log(`database: ${describeDatabase(config)}`);
        const last = (await migrationStatus(db)).filter((m) => m.executedAt !== undefined).at(-1);
        if (!last) {
          console.log('nothing to revert: no migration has been applied');
          return;
        }
        if (revertDropsUserData(last.name) && !options.yes) {
          const sure = await confirm(
            `Reverting ${last.name} deletes stored data in ${describeDatabase(config)}.`,
            'Revert it?',
            '--yes',
          );
          if (!sure) {
            console.log('nothing reverted');
            return;
          }
        }
        for (const r of (await migrateDown(db)).results ?? []) console.log(`reverted ${r.migrationName}`);
        console.log(
          'servers on this database expect every migration: run `bookapi migrate` before starting them again',
        );
      }, MANUAL),
    );

  migrate
    .command('status')
    .description('list the migrations and whether each is applied')
    .addHelpText('after', examples('bookapi migrate status'))
    .action(() =>
      withDatabase(async (db, config) => {
        console.log(`database: ${describeDatabase(config)}`);
        for (const m of await migrationStatus(db)) {
          console.log(
            `${m.executedAt ? `applied ${m.executedAt.toISOString()}` : 'pending                          '}  ${m.name}`,
          );
        }
      }, MANUAL),
    );
}
