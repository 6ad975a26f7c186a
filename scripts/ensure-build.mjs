#!/usr/bin/env node
// Compiles dist/ only when it is missing or older than src/, so a start takes a second, not a
// rebuild; a production install (no src/, no TypeScript) runs what it was given. Used by
// `npm start` and by the `bookapi` command's launcher.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function newest(dir) {
  let latest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    latest = Math.max(latest, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return latest;
}

/** Returns 0 when dist/ is ready to run, else the exit code to stop with. */
export function ensureBuild(root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))) {
  const entry = path.join(root, 'dist', 'cli', 'index.js');
  const src = path.join(root, 'src');
  const built = fs.existsSync(entry) ? fs.statSync(entry).mtimeMs : 0;
  const sources = fs.existsSync(src) ? newest(src) : 0;
  if (built > 0 && built >= sources) return 0;

  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!fs.existsSync(tsc)) {
    if (built > 0) {
      console.error(
        'bookapi: src/ is newer than dist/ but TypeScript is not installed; running the existing build',
      );
      return 0;
    }
    console.error(
      'bookapi: dist/ is missing and TypeScript is not installed: run `npm ci && npm run build` first',
    );
    return 1;
  }
  console.error(
    built > 0 ? 'bookapi: src/ changed; rebuilding dist/' : 'bookapi: building dist/ (first run)',
  );
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  if (result.status === 0) fs.chmodSync(entry, 0o755);
  return result.status ?? 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.exit(ensureBuild());
}
