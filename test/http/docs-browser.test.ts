// The docs page in a real browser, opened through a hostname over plain HTTP — as a colleague
// on the network opens it. Debian's chromium, driven by playwright-core.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { startServer, stopServer } from '../process.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));

test('the docs page renders through a hostname over HTTP, with no console or CSP errors', {
  skip: CHROMIUM
    ? false
    : 'SKIPPED: no chromium at /usr/bin/chromium (apt-get install chromium); .ci/run installs it',
}, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-docs-'));
  const server = startServer({ DATABASE_URL: 'sqlite::memory:', DATA_DIR: dir });
  t.after(async () => {
    await stopServer(server);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const base = await server.ready();
  const { port } = new URL(base);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // A name that is not localhost, resolved to this machine: the case that used to stay blank.
    args: ['--host-resolver-rules=MAP docs.bookapi.test 127.0.0.1', '--no-sandbox'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    // Chromium's notice that COOP only applies over HTTPS: the header is kept for HTTPS deployments.
    if (m.type() === 'error' && !/Cross-Origin-Opener-Policy header has been ignored/.test(m.text()))
      problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('requestfailed', (r) => problems.push(`${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
  });

  await page.goto(`http://docs.bookapi.test:${port}/docs`);
  await page.waitForSelector('.swagger-ui .info .title', { timeout: 20_000 });
  assert.match((await page.locator('.swagger-ui .info .title').textContent()) ?? '', /bookapi/);
  await page
    .locator('.opblock-summary-path', { hasText: '/bookapi/books' })
    .first()
    .waitFor({ timeout: 20_000 });
  assert.deepEqual(problems, []);
  const shots = path.resolve('test-results');
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, 'docs.png') });
});
