import { Command } from 'commander';
import { VERSION } from '../version.js';
import { registerAdmin } from './admin-command.js';
import { registerBooks } from './books-command.js';
import { registerKeys } from './keys-command.js';
import { registerMigrate } from './migrate-command.js';
import { registerServe } from './serve-command.js';

/** The `bookapi` command and its subcommands. */
export function buildProgram(): Command {
  const program = new Command('bookapi')
    .description('A book-library REST API secured by authentication decorators')
    .version(VERSION, '-v, --version')
    .exitOverride()
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: false })
    .addHelpText(
      'after',
      `
Exit codes: 0 done, 1 runtime failure, 2 usage or configuration error.
Every command reads the same environment as the server (DATABASE_URL, DATA_DIR, …).

Examples:
  $ bookapi serve --workers 2
  $ bookapi migrate status
  $ bookapi admin create --username root
  $ bookapi books import catalogue.csv --owner root`,
    );
  registerServe(program);
  registerMigrate(program);
  registerAdmin(program);
  registerKeys(program);
  registerBooks(program);
  return program;
}
