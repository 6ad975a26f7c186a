#!/usr/bin/env node
// The `bookapi` command. In a clone it first compiles dist/ when src/ is newer (so `npx bookapi`
// works right after `npm ci`); in a production install it runs the shipped dist/ as it is.
import { ensureBuild } from './ensure-build.mjs';

const code = ensureBuild();
if (code !== 0) process.exit(code);
await import('../dist/cli/index.js');
