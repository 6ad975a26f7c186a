// What the web client's browser tests share: a built client, a real server on a fresh SQLite
// database, Debian's chromium driven by playwright-core, and a watch on each page for anything
// the console or the network says went wrong.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
// @ts-expect-error: a plain ES module script without type declarations
import { ensureWebBuild } from '../../bin/ensure-build.mjs';
import { call, type ServerProcess, startServer, stopServer } from '../process.js';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
export const SKIP = CHROMIUM
  ? false
  : 'SKIPPED: no chromium at /usr/bin/chromium (apt-get install chromium); .ci/run installs it';

/** The policy the server must send with the client's page (and the client must live within). */
export const CLIENT_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const SHOTS = path.resolve('test-results');

/** Builds dist/web/ when it is missing or older than web/ (esbuild: about a second). */
export function buildClient(): void {
  assert.equal((ensureWebBuild as (root?: string) => number)(), 0, 'the web client builds');
}

export interface Server {
  base: string;
  process: ServerProcess;
  dir: string;
}

export async function serve(env: Record<string, string> = {}): Promise<Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookapi-web-'));
  const server = startServer({
    DATABASE_URL: 'sqlite::memory:',
    DATA_DIR: dir,
    ADMIN_USERNAME: 'root',
    ADMIN_PASSWORD: ROOT_PASSWORD,
    SIGNUP_IP_MAX: '100',
    ...env,
  });
  try {
    return { base: await server.ready(), process: server, dir };
  } catch (error) {
    await stopServer(server);
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export async function stop(server: Server | undefined): Promise<void> {
  if (!server) return;
  await stopServer(server.process);
  fs.rmSync(server.dir, { recursive: true, force: true });
}

export const ROOT_PASSWORD = 'the root passphrase';
export const PASSWORD = 'correct horse battery';

export function launch(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', ...extraArgs] });
}

/**
 * Everything a page reports that a person would count as broken: script errors, CSP violations,
 * failed loads, console errors. An API answer of 4xx is part of the contract (a wrong password, a
 * 403 the test provokes): the browser's own log line for it is allowed, and nothing else.
 */
export function watch(page: Page, problems: string[]): void {
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (/^Failed to load resource: the server responded with a status of 4\d\d /.test(m.text())) return;
    problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  // A reload cuts short what the page was loading; any other aborted request is a fault (an
  // answer whose body the page never read, say).
  let reloadedAt = 0;
  page.on('request', (r) => {
    if (r.isNavigationRequest() && r.frame() === page.mainFrame()) reloadedAt = Date.now();
  });
  page.on('requestfailed', (r) => {
    const error = r.failure()?.errorText;
    if (error === 'net::ERR_ABORTED' && Date.now() - reloadedAt < 5000) return;
    problems.push(`requestfailed: ${r.url()} ${error}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 500) problems.push(`${r.status()} ${r.url()}`);
  });
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
}

export interface Tab {
  page: Page;
  problems: string[];
}

export async function open(context: BrowserContext, base: string, hash = ''): Promise<Tab> {
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  watch(page, problems);
  const res = await page.goto(`${base}/${hash}`);
  assert.equal(res?.headers()['content-security-policy'], CLIENT_CSP, 'the page carries the CSP');
  return { page, problems };
}

export async function login(page: Page, username: string, password: string): Promise<void> {
  await page.getByRole('heading', { name: 'Log in', exact: true }).waitFor();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

export async function signup(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.getByRole('heading', { name: 'Create an account' }).waitFor();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
}

/** A user made over the API, for scenes that do not test signing up. */
export async function account(base: string, username: string, password = PASSWORD): Promise<string> {
  const signed = await call(base, 'POST', '/signup', { username, password });
  assert.equal(signed.status, 201, JSON.stringify(signed.body));
  return apiToken(base, username, password);
}

/** An access token from a password login over the API (no browser, no cookie). */
export async function apiToken(base: string, username: string, password = PASSWORD): Promise<string> {
  const res = await call(base, 'POST', '/login', { username, password });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return String(res.body.token);
}

export async function addBook(page: Page, title: string, author: string): Promise<void> {
  await page.getByLabel('Title', { exact: true }).fill(title);
  await page.getByLabel('Author', { exact: true }).fill(author);
  await page.getByRole('button', { name: 'Add book' }).click();
  await page.getByText(`Added “${title}” by ${author}.`).waitFor();
}

/** The list of books as shown: one "title / by author" entry per book. */
export function bookItem(page: Page, title: string) {
  return page
    .locator('li.book')
    .filter({ has: page.locator('.title', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }) });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}
