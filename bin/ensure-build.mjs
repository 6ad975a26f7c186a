#!/usr/bin/env node
// Compiles dist/ only when it is missing or older than src/, and builds the web client into
// dist/web/ only when it is missing or older than web/, so a start takes a second, not a
// rebuild; a production install (no src/ or web/, no TypeScript or esbuild) runs what it was
// given. Used by `npm start` and by the `bookapi` command's launcher. Everything it says goes to
// stderr: a command's stdout (an export) stays clean.
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

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** Returns 0 when dist/ (and the web client, where it can be built) is ready, else the exit code. */
export function ensureBuild(root = ROOT) {
  const server = ensureServerBuild(root);
  return server === 0 ? ensureWebBuild(root) : server;
}

function ensureServerBuild(root) {
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

/**
 * The web client (scripts/build-web.mjs): built when dist/web/ is missing or older than web/.
 * Without esbuild (a production install) it is not fatal: the API still serves, and `GET /` says
 * how to build the client. A build that fails is: web/ is broken.
 */
export function ensureWebBuild(root = ROOT) {
  const page = path.join(root, 'dist', 'web', 'index.html');
  const web = path.join(root, 'web');
  if (!fs.existsSync(web)) return 0;
  const built = fs.existsSync(page) ? fs.statSync(page).mtimeMs : 0;
  const script = path.join(root, 'scripts', 'build-web.mjs');
  const sources = Math.max(newest(web), fs.existsSync(script) ? fs.statSync(script).mtimeMs : 0);
  if (built > 0 && built >= sources) return 0;
  if (!fs.existsSync(path.join(root, 'node_modules', 'esbuild'))) {
    console.error(
      built > 0
        ? 'bookapi: web/ is newer than dist/web/ but esbuild is not installed; serving the existing client'
        : 'bookapi: the web client is not built and esbuild is not installed; the API runs without it (`npm ci && npm run build`)',
    );
    return 0;
  }
  console.error(
    built > 0 ? 'bookapi: web/ changed; rebuilding dist/web/' : 'bookapi: building the web client',
  );
  const result = spawnSync(process.execPath, [script], {
    stdio: ['ignore', 2, 2],
  });
  return result.status ?? 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.exit(ensureBuild());
}
