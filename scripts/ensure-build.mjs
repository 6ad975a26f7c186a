#!/usr/bin/env node
// `npm start` runs this first: compile only when dist/ is missing or older than src/, so a start
// takes a second, not a rebuild; a production install (no TypeScript) runs what it was given.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const entry = 'dist/cli/index.js';

function newest(dir) {
  let latest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    latest = Math.max(latest, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return latest;
}

const built = fs.existsSync(entry) ? fs.statSync(entry).mtimeMs : 0;
const sources = fs.existsSync('src') ? newest('src') : 0;
if (built > 0 && built >= sources) process.exit(0);

const tsc = path.join('node_modules', 'typescript', 'bin', 'tsc');
if (!fs.existsSync(tsc)) {
  if (built > 0) {
    console.error(
      'bookapi: src/ is newer than dist/ but TypeScript is not installed; running the existing build',
    );
    process.exit(0);
  }
  console.error(
    'bookapi: dist/ is missing and TypeScript is not installed: run `npm ci && npm run build` first',
  );
  process.exit(1);
}
console.error(
  built > 0 ? 'bookapi: src/ changed; rebuilding dist/' : 'bookapi: building dist/ (first start)',
);
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (result.status === 0) fs.chmodSync(entry, 0o755);
process.exit(result.status ?? 1);
