#!/usr/bin/env node
// Runs the whole test suite on SQLite, then again on PostgreSQL when
// TEST_POSTGRES_URL is set (reported as skipped, visibly, when it is not).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

/** Tests that exercise no database code, or only the SQLite file layout: run once. */
const DATABASE_INDEPENDENT = new Set([
  'test/config.test.ts',
  'test/server.test.ts',
  'test/admin/cli.test.ts',
  'test/http/slow-clients.test.ts',
  'test/cli/cli.test.ts',
  'test/cli/production.test.ts',
  'test/http/docs-browser.test.ts',
  'test/metrics/observer.test.ts',
  'test/metrics/workers.test.ts',
  'test/web/client.test.ts',
  'test/web/refresh.test.ts',
]);

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? testFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .filter((f) => f.endsWith('.test.ts'))
    .sort();
}

function run(label, files, env) {
  console.log(`\n=== ${label} ===`);
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', ...files],
    {
      stdio: 'inherit',
      env: { ...process.env, ...env },
    },
  );
  return result.status === 0;
}

/** This run's id: its tests' PostgreSQL schemas are named after it (test/helpers.ts). */
const RUN = randomBytes(4).toString('hex');

/** This run's test schemas, dropped once the PostgreSQL run is over rather than while other files run. */
async function dropTestSchemas(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('select nspname from pg_namespace where nspname like $1', [
      `t\\_${RUN}\\_%`,
    ]);
    for (const { nspname } of rows) await client.query(`drop schema if exists "${nspname}" cascade`);
  } finally {
    await client.end();
  }
}

const files = testFiles('test');
let ok = run('SQLite', files, { BOOKAPI_TEST_DB: 'sqlite' });

const url = process.env.TEST_POSTGRES_URL;
if (url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.end();
  } catch (error) {
    console.error(`\nTEST_POSTGRES_URL is set but PostgreSQL cannot be reached (${url}): ${error.message}`);
    process.exit(1);
  }
  ok =
    run(
      'PostgreSQL',
      files.filter((f) => !DATABASE_INDEPENDENT.has(f)),
      { BOOKAPI_TEST_DB: 'postgres', BOOKAPI_TEST_RUN: RUN },
    ) && ok;
  await dropTestSchemas(url);
} else {
  ok = run('PostgreSQL', ['scripts/postgres-skipped.test.mjs'], {}) && ok;
}
process.exit(ok ? 0 : 1);
