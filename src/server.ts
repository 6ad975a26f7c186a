// The server entry for process managers: `node dist/server.js [--port N] [--host A] [--workers N]`,
// the same as `bookapi serve`.
import { buildProgram } from './cli/program.js';
import { fail } from './cli/run.js';

buildProgram()
  .parseAsync(['serve', ...process.argv.slice(2)], { from: 'user' })
  .catch(fail);
