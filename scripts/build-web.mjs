#!/usr/bin/env node
// Builds the web client: web/ → dist/web/index.html and dist/web/app/<name>-<hash>.{js,css,svg}.
// Every asset's name carries a hash of its content, so the server may let browsers keep it for
// a year; index.html, which names them, is served no-cache. Prints the sizes and fails above the
// budget. Every file is written to a temporary name and renamed, so two builds at once (test
// files starting in parallel) never leave a half-written file.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** The whole client, gzipped: HTML, script, style sheet and icon. */
export const BUDGET_BYTES = 60 * 1024;

function writeAtomic(file, contents) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, contents);
  fs.renameSync(tmp, file);
}

function hashed(name, contents) {
  const digest = createHash('sha256').update(contents).digest('base64url').slice(0, 10);
  const ext = path.extname(name);
  return `${path.basename(name, ext)}-${digest}${ext}`;
}

export async function buildWeb({
  root = path.dirname(path.dirname(fileURLToPath(import.meta.url))),
  log = console.log,
} = {}) {
  const esbuild = await import('esbuild');
  const web = path.join(root, 'web');
  const out = path.join(root, 'dist', 'web');
  const app = path.join(out, 'app');
  fs.mkdirSync(app, { recursive: true });

  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [path.join(web, 'src', 'main.tsx')],
    bundle: true,
    minify: true,
    format: 'esm',
    // Browsers of the last few years: native modules, optional chaining, private fields.
    target: ['chrome100', 'firefox100', 'safari15.4'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(web, 'tsconfig.json'),
    outdir: app,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    legalComments: 'none',
    charset: 'utf8',
    write: false,
    logLevel: 'warning',
  });

  const files = new Map();
  for (const file of result.outputFiles) files.set(path.basename(file.path), file.contents);
  const icon = fs.readFileSync(path.join(web, 'favicon.svg'));
  const iconName = hashed('favicon.svg', icon);
  files.set(iconName, icon);
  const names = [...files.keys()];
  const js = names.find((n) => n.endsWith('.js'));
  const css = names.find((n) => n.endsWith('.css'));
  if (!js || !css) throw new Error(`build-web: expected a .js and a .css file, got ${names.join(', ')}`);

  const html = fs
    .readFileSync(path.join(web, 'index.html'), 'utf8')
    .replaceAll('{{js}}', js)
    .replaceAll('{{css}}', css)
    .replaceAll('{{favicon}}', iconName);
  const left = /\{\{\w+\}\}/.exec(html);
  if (left) throw new Error(`build-web: web/index.html still holds ${left[0]} after the build`);
  for (const [name, contents] of files) {
    writeAtomic(path.join(app, name), contents);
    // Compressed once here, served as they are to a browser that accepts them (preCompressed).
    writeAtomic(path.join(app, `${name}.gz`), gzipSync(contents, { level: 9 }));
    writeAtomic(
      path.join(app, `${name}.br`),
      brotliCompressSync(contents, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    );
  }
  // The previous page's files stay one build longer: a server still holding that page, or a tab
  // that loaded it, can still fetch them. Older ones go.
  const page = path.join(out, 'index.html');
  const previous = fs.existsSync(page) ? fs.readFileSync(page, 'utf8') : '';
  const keep = new Set([...files.keys(), ...[...previous.matchAll(/\/app\/([\w.-]+)/g)].map((m) => m[1])]);
  // The page last: it names only files that are already there.
  writeAtomic(page, html);
  for (const old of fs.readdirSync(app)) {
    if (!keep.has(old.replace(/\.(br|gz)$/, '')) && !old.endsWith('.tmp'))
      fs.rmSync(path.join(app, old), { force: true });
  }

  const rows = [['index.html', Buffer.from(html)], ...files].map(([name, contents]) => ({
    name,
    raw: contents.length,
    gzip: gzipSync(contents, { level: 9 }).length,
  }));
  const total = rows.reduce((sum, r) => sum + r.gzip, 0);
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  for (const r of rows)
    log(`  ${r.name.padEnd(28)} ${kb(r.raw).padStart(9)}  ${kb(r.gzip).padStart(9)} gzipped`);
  log(`web client: ${kb(total)} gzipped in all (budget ${kb(BUDGET_BYTES)}) → dist/web`);
  if (total > BUDGET_BYTES)
    throw new Error(`build-web: ${kb(total)} gzipped is over the ${kb(BUDGET_BYTES)} budget`);
  return { total, files: rows };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  try {
    await buildWeb();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
