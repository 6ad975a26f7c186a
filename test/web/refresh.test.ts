// Silent refresh with access tokens that live two seconds: two tabs of one browser share the
// refresh cookie and take turns (navigator.locks), so the server — which here takes any second
// use of a refresh token for theft (REFRESH_REUSE_GRACE=0) — never sees one presented twice.
// A refreshed token is never fresh, so the changes that need a fresh login ask for the password.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { call } from '../process.js';
import {
  account,
  addBook,
  apiToken,
  buildClient,
  launch,
  login,
  open,
  PASSWORD,
  type Server,
  SKIP,
  serve,
  stop,
  type Tab,
} from './harness.js';

const TTL_MS = 2000;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('silent refresh across tabs', { skip: SKIP }, () => {
  let server: Server | undefined;
  let browser: Browser | undefined;
  let ctx: BrowserContext | undefined;
  let tabs: Tab[] = [];
  const refreshes: number[] = [];

  before(async () => {
    buildClient();
    server = await serve({ ACCESS_TOKEN_TTL: '2', REFRESH_REUSE_GRACE: '0' });
    browser = await launch();
    await account(server.base, 'judy');
  });

  after(async () => {
    await browser?.close();
    await stop(server);
  });

  const output = () => server?.process.output() ?? '';
  const books = (page: Page) => page.getByRole('heading', { name: 'Books', exact: true });

  test('two tabs keep working through many refreshes, and the server sees no reuse', async () => {
    assert.ok(browser && server);
    ctx = await browser.newContext();
    ctx.on('response', (r) => {
      if (r.url().endsWith('/token/refresh')) refreshes.push(r.status());
    });
    // A slow network: each refresh takes half a second, so the two tabs' refreshes overlap unless
    // they take turns (without the lock, the second tab sends the cookie the first is spending).
    await ctx.route('**/token/refresh', async (route) => {
      await pause(500);
      await route.continue();
    });
    const first = await open(ctx, server.base);
    await login(first.page, 'judy', PASSWORD);
    // The second tab restores the session from the shared cookie.
    const second = await open(ctx, server.base);
    await books(second.page).waitFor();
    tabs = [first, second];

    for (let round = 1; round <= 3; round++) {
      await pause(TTL_MS + 300);
      // Both tabs at once, both with an expired token.
      await Promise.all(tabs.map((t, i) => addBook(t.page, `Tab ${i + 1}, round ${round}`, 'Judy')));
    }
    const ok = refreshes.filter((s) => s === 201).length;
    assert.ok(ok >= 7, `refreshes: ${refreshes.join(' ')}`);
    assert.deepEqual(
      refreshes.filter((s) => s !== 201),
      [],
      'none refused (a page before any login does not even ask)',
    );
    assert.doesNotMatch(output(), /refresh\.reuse_detected/);
    assert.match(output(), /"event":"refresh"/);
    for (const t of tabs) {
      assert.equal(await t.page.getByRole('heading', { name: 'Log in' }).count(), 0);
      assert.deepEqual(t.problems, []);
    }
    await ctx.unroute('**/token/refresh');
  });

  test('a change that needs a fresh login asks for the password, logs in again and is done', async () => {
    assert.ok(server && tabs.length === 2);
    const [first, second] = tabs as [Tab, Tab];
    const page = first.page;
    // The tab a person looks at: a hidden one runs no animation frames, which slows every click.
    await page.bringToFront();
    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByRole('heading', { name: 'Account', exact: true }).waitFor();
    await pause(TTL_MS + 300);

    // Cancelled: nothing is created.
    await page.getByLabel('Token name').fill('deploy');
    await page.getByRole('button', { name: 'Create token' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('enter your password again').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.getByText('Not changed: this needs your password.').waitFor();

    // With the password: a new session replaces this browser's, and the token is created.
    await page.getByRole('button', { name: 'Create token' }).click();
    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('The new token').waitFor();
    const token = await apiToken(server.base, 'judy');
    const sessions = await call(server.base, 'GET', '/me/sessions', undefined, {
      authorization: `Bearer ${token}`,
    });
    // One session for this browser: the old one was ended, not left behind.
    const agents = (sessions.body.sessions as { user_agent: string | null }[]).map((s) => s.user_agent ?? '');
    assert.equal(agents.filter((a) => a.includes('Chrome')).length, 1, agents.join('\n'));

    // The password, with the current one just typed: no second prompt.
    await pause(TTL_MS + 300);
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password').fill('judy’s new passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed.').waitFor();
    assert.equal(await dialog.count(), 0);

    // The other tab follows this browser onto its new session.
    await second.page.bringToFront();
    await second.page.getByRole('link', { name: 'My books' }).click();
    await addBook(second.page, 'After the new login', 'Judy');
    assert.doesNotMatch(output(), /refresh\.reuse_detected/);
    for (const t of tabs) assert.deepEqual(t.problems, []);
  });

  test('a session ended elsewhere: the next refresh is refused, and every tab returns to the login form', async () => {
    assert.ok(server && tabs.length === 2);
    const token = await apiToken(server.base, 'judy', 'judy’s new passphrase');
    const all = await call(server.base, 'POST', '/logout/all', undefined, {
      authorization: `Bearer ${token}`,
    });
    assert.equal(all.status, 200);
    await pause(TTL_MS + 300);
    const [first, second] = tabs as [Tab, Tab];
    await first.page.bringToFront();
    await first.page.getByRole('link', { name: 'Books' }).click();
    await first.page.getByText('Your session has ended').waitFor();
    // The other tab hears of it from the first at once, without a request of its own.
    await second.page.getByRole('heading', { name: 'Log in', exact: true }).waitFor();
    for (const t of tabs) assert.deepEqual(t.problems, []);
    await ctx?.close();
  });
});
