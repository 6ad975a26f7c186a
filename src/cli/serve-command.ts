import type { Command } from 'commander';
import { serve } from '../process/serve.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the API server (what `npm start` runs)')
    .option('-p, --port <port>', 'port to listen on (PORT, default 5000)')
    .option('-H, --host <address>', 'address to listen on (HOST, default 127.0.0.1)')
    .option('-w, --workers <n>', 'worker processes sharing the port (WORKERS, default 1)')
    .addHelpText(
      'after',
      `
Configuration comes from the environment (see the README); flags win over it.

Examples:
  $ bookapi serve
  $ bookapi serve --port 8080 --host 0.0.0.0 --workers 2
  $ DATABASE_URL=postgres://bookapi@db/bookapi bookapi serve`,
    )
    .action(async (options: { port?: string; host?: string; workers?: string }) => {
      await serve(options);
    });
}
