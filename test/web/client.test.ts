// The web client in Debian's chromium against a real server: what a person does with it, what
// the API refuses and how the page says so, and what another site cannot make it do.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { call } from '../process.js';
import {
  account,
  addBook,
  apiToken,
  bookItem,
  buildClient,
  launch,
  login,
  open,
  PASSWORD,
  ROOT_PASSWORD,
  type Server,
  SKIP,
  serve,
  shot,
  signup,
  stop,
} from './harness.js';

// The page's globals, as far as the functions evaluated in the page use them: this type-check
// has no DOM library (it covers the server), and these declarations stay in this file.
declare const document: {
  activeElement: { matches(selector: string): boolean } | null;
  querySelectorAll(selector: string): { length: number };
  cookie: string;
  createElement(tag: 'form'): { method: string; action: string; submit(): void };
  body: { append(node: unknown): void };
  documentElement: { scrollWidth: number };
};
declare const localStorage: {
  length: number;
  removeItem(key: string): void;
  getItem(key: string): string | null;
};
declare const sessionStorage: { length: number };
declare const location: { hash: string };
declare const navigator: { clipboard: { readText(): Promise<string> } };

/** Waits until the element with the focus matches the selector (focus moves after a render). */
async function isFocused(page: Page, selector: string): Promise<boolean> {
  return page
    .waitForFunction((s) => document.activeElement?.matches(s), selector, { timeout: 3000 })
    .then(
      () => true,
      () => false,
    );
}

describe('web client', { skip: SKIP }, () => {
  let server: Server | undefined;
  let browser: Browser | undefined;
  let base = '';

  before(async () => {
    buildClient();
    server = await serve({ LOGIN_MAX_FAILURES: '3' });
    base = server.base;
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await stop(server);
  });

  const context = async () => {
    assert.ok(browser);
    const ctx = await browser.newContext({ viewport: { width: 1000, height: 800 } });
    return ctx;
  };

  test('the page and its hashed files: no-cache page, immutable assets, all within the budget', async () => {
    const page = await fetch(`${base}/`, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    const html = await page.text();
    // Every file the page names, however it is written (a placeholder left by the build included).
    const assets = [...new Set([...html.matchAll(/\/app\/([^"'\s>]+)/g)].map((m) => m[1]))];
    assert.equal(assets.length, 3, html);
    let total = Buffer.byteLength(html);
    for (const name of assets) {
      assert.match(String(name), /-[\w]{8,}\.(js|css|svg)$/, 'a content hash in the name');
      const res = await fetch(`${base}/app/${name}`);
      assert.equal(res.status, 200, String(name));
      assert.match(
        res.headers.get('cache-control') ?? '',
        /max-age=31536000.*immutable|immutable.*max-age=31536000/,
      );
      total += (await res.arrayBuffer()).byteLength;
    }
    // The gzipped budget is checked by the build; the raw size bounds it from above.
    assert.ok(total < 200 * 1024, `${total} bytes`);
    // Sent compressed to a browser that accepts it (compressed once, at build time), as is otherwise.
    const script = assets.find((n) => String(n).endsWith('.js'));
    const raw = (encoding: string) =>
      new Promise<http.IncomingMessage>((resolve, reject) =>
        http
          .get(`${base}/app/${script}`, { headers: { 'accept-encoding': encoding } }, (res) => {
            res.resume();
            resolve(res);
          })
          .on('error', reject),
      );
    for (const [accepted, sent] of [
      ['br, gzip', 'br'],
      ['gzip', 'gzip'],
      ['identity', undefined],
    ] as const) {
      const res = await raw(accepted);
      assert.equal(res.headers['content-encoding'], sent, accepted);
      assert.match(String(res.headers.vary), /accept-encoding/i);
    }
    // JSON clients still get JSON at /.
    const json = await call(base, 'GET', '/');
    assert.equal(json.body.name, 'bookapi');
  });

  test('a logged-out visitor’s page starts clean: no refresh that must fail, nothing in the console', async () => {
    const ctx = await context();
    try {
      const page = await ctx.newPage();
      const messages: string[] = [];
      page.on('console', (m) => messages.push(`${m.type()}: ${m.text()}`));
      const api: string[] = [];
      page.on('request', (r) => {
        if (!r.url().includes('/app/') && !r.isNavigationRequest()) api.push(r.url());
      });
      await page.goto(`${base}/`);
      await page.getByRole('heading', { name: 'Log in', exact: true }).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: 'Log in', exact: true }).waitFor();
      assert.deepEqual(messages, []);
      assert.deepEqual(
        api.filter((u) => u.includes('/token/')),
        [],
      );
    } finally {
      await ctx.close();
    }
  });

  test('sign up, log out, log in by keyboard alone, then add, edit, search and delete books', async () => {
    const ctx = await context();
    try {
      const { page, problems } = await open(ctx, base, '#/signup');
      const paint = await page.evaluate(
        () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1,
      );
      console.log(`# first contentful paint: ${paint.toFixed(0)} ms`);
      assert.ok(paint > 0 && paint < 3000, `first paint after ${paint} ms`);

      // The API's own words for a refused signup.
      await signup(page, 'alice', 'password1234');
      await page.getByText('This password is too common; choose another one').waitFor();
      await signup(page, 'alice', 'short');
      await page.getByText('password must NOT have fewer than 8 characters').waitFor();
      await signup(page, 'alice');
      await page.getByRole('heading', { name: 'Books', exact: true }).waitFor();
      assert.ok(await isFocused(page, 'h1'), 'the new view’s heading has the focus');

      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByText('You have logged out.').waitFor();
      // Keyboard only: the heading has the focus, Tab goes to the first field, Enter submits.
      assert.ok(await isFocused(page, 'h1'));
      await page.keyboard.press('Tab');
      assert.ok(await isFocused(page, 'input[autocomplete="username"]'), 'Tab reaches the username');
      await page.keyboard.type('alice');
      await page.keyboard.press('Tab');
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Books', exact: true }).waitFor();

      await addBook(page, 'The Hobbit', 'J. R. R. Tolkien');
      await addBook(page, 'Dune', 'Frank Herbert');
      await addBook(page, 'Straße der Bücher', 'Günter Grass');
      // 409, in the API's words.
      await page.getByLabel('Title', { exact: true }).fill('the hobbit');
      await page.getByLabel('Author', { exact: true }).fill('j. r. r. tolkien');
      await page.getByRole('button', { name: 'Add book' }).click();
      await page.getByText('Book with same title already exists!').waitFor();
      await shot(page, 'books');

      // Edit in place.
      await bookItem(page, 'Dune').getByRole('button', { name: /^Edit/ }).click();
      await page.getByRole('listitem').getByLabel('Title').fill('Dune Messiah');
      await page.getByRole('button', { name: 'Save' }).click();
      await bookItem(page, 'Dune Messiah').waitFor();
      assert.equal(await bookItem(page, 'Dune').count(), 0);

      // Search, by a piece of a word, without accents; the address keeps it.
      await page.getByLabel('Search titles and authors').fill('strasse gunter');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByRole('heading', { name: 'Found for “strasse gunter”' }).waitFor();
      await bookItem(page, 'Straße der Bücher').waitFor();
      await page.waitForFunction(() => document.querySelectorAll('li.book').length === 1);
      assert.match(page.url(), /#\/books\?q=strasse\+gunter/);
      await page.getByRole('link', { name: 'Clear' }).click();
      await page.waitForFunction(() => document.querySelectorAll('li.book').length === 3);

      // Delete asks first: Escape keeps the book, the dialog's button deletes it.
      await bookItem(page, 'The Hobbit')
        .getByRole('button', { name: /^Delete/ })
        .click();
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      assert.ok(await isFocused(page, 'dialog button'), 'the safe choice has the focus');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assert.equal(await bookItem(page, 'The Hobbit').count(), 1);
      await bookItem(page, 'The Hobbit')
        .getByRole('button', { name: /^Delete/ })
        .click();
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await bookItem(page, 'The Hobbit').waitFor({ state: 'detached' });

      // A reload keeps the session: the cookie survives it, the access token is asked for again.
      await page.reload();
      await bookItem(page, 'Dune Messiah').waitFor();
      // Only the cookie's binding secret, which opens nothing by itself, and a flag that a session
      // exists; never a token.
      assert.deepEqual(
        await page.evaluate(() => [sessionStorage.length, Object.keys({ ...localStorage }).sort()]),
        [0, ['bookapi-binding', 'bookapi-signed-in']],
        'no token stored',
      );
      // A browser that used the client before the flag existed (its binding, no flag) is asked
      // once, and keeps its session.
      await page.evaluate(() => localStorage.removeItem('bookapi-signed-in'));
      await page.reload();
      await bookItem(page, 'Dune Messiah').waitFor();
      assert.equal(await page.evaluate(() => localStorage.getItem('bookapi-signed-in')), '1');
      assert.equal(await page.evaluate(() => document.cookie), '', 'the refresh cookie is HttpOnly');
      assert.deepEqual(problems, []);
    } finally {
      await ctx.close();
    }
  });

  test('a 401 for an expired token is refreshed once, silently, and the request retried', async () => {
    await account(base, 'kate');
    const ctx = await context();
    try {
      const { page, problems } = await open(ctx, base);
      await login(page, 'kate', PASSWORD);
      await page.getByRole('heading', { name: 'Books', exact: true }).waitFor();
      const refreshes: number[] = [];
      page.on('response', (r) => {
        if (r.url().endsWith('/token/refresh')) refreshes.push(r.status());
      });
      // The server's clock says the token is over (the page's does not think so yet).
      let expired = 0;
      await page.route('**/bookapi/books?*', async (route) => {
        if (expired++ > 0) return route.continue();
        await route.fulfill({
          status: 401,
          contentType: 'application/json',
          body: JSON.stringify({ message: 'Token has expired!', code: 'TOKEN_EXPIRED' }),
        });
      });
      await page.getByLabel('Search titles and authors').fill('anything');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByText('No book matches every word.').waitFor();
      assert.deepEqual(refreshes, [201]);
      assert.ok(expired >= 2, 'the request was sent again');
      assert.deepEqual(problems, []);
    } finally {
      await ctx.close();
    }
  });

  test('the login form shows the API’s refusals: wrong password, throttled with the wait', async () => {
    await account(base, 'carol');
    const ctx = await context();
    try {
      const { page, problems } = await open(ctx, base);
      await page.getByRole('heading', { name: 'Log in', exact: true }).waitFor();
      await shot(page, 'login');
      const attempt = async (password: string) => {
        await page.getByLabel('Username').fill('carol');
        await page.getByLabel('Password').fill(password);
        const [res] = await Promise.all([
          page.waitForResponse((r) => r.url().endsWith('/login')),
          page.getByRole('button', { name: 'Log in' }).click(),
        ]);
        return res.status();
      };
      for (let i = 0; i < 3; i++) {
        assert.equal(await attempt('not the password'), 401);
        await page.getByText('Could not verify!').waitFor();
      }
      // Even the right password now waits.
      assert.equal(await attempt(PASSWORD), 429);
      const alert = page.getByRole('alert');
      await alert.filter({ hasText: 'Too many failed logins' }).waitFor();
      assert.match((await alert.textContent()) ?? '', /wait 1[45] minutes/);
      assert.deepEqual(problems, []);
    } finally {
      await ctx.close();
    }
  });

  test('two users: each changes only their own books, in the page and in the API', async () => {
    const danToken = await account(base, 'dan');
    const ericToken = await account(base, 'eric');
    // Enough books for two pages of 20, through the API.
    for (let i = 1; i <= 22; i++) {
      const res = await call(
        base,
        'POST',
        '/bookapi/books',
        { title: `Dan’s book ${i}`, author: 'Dan' },
        {
          authorization: `Bearer ${danToken}`,
        },
      );
      assert.equal(res.status, 201);
    }
    const erics = await call(
      base,
      'POST',
      '/bookapi/books',
      { title: 'Eric’s only book', author: 'Eric' },
      {
        authorization: `Bearer ${ericToken}`,
      },
    );
    const ctxEric = await context();
    try {
      const { page, problems } = await open(ctxEric, base);
      await login(page, 'eric', PASSWORD);
      await page.getByLabel('Search titles and authors').fill('book');
      await page.getByRole('button', { name: 'Search' }).click();
      await bookItem(page, 'Dan’s book 1').waitFor();
      // Keyset pages: the Link header's next page, and back.
      await page.getByRole('button', { name: 'Next page' }).click();
      await bookItem(page, 'Eric’s only book').waitFor();
      await page.getByText('Page 2').waitFor();
      // Only one's own books offer Edit and Delete.
      await bookItem(page, 'Eric’s only book').getByRole('button', { name: /^Edit/ }).waitFor();
      await shot(page, 'books-two-users');
      assert.equal(await bookItem(page, 'Dan’s book 21').getByRole('button').count(), 0);
      await page.getByRole('button', { name: 'Previous page' }).click();
      await bookItem(page, 'Dan’s book 1').waitFor();
      assert.equal(await page.locator('li.book button').count(), 0);
      // My books: Eric's alone.
      await page.getByRole('link', { name: 'My books' }).click();
      await page.getByRole('heading', { name: 'My books', exact: true }).waitFor();
      await page.waitForFunction(() => document.querySelectorAll('li.book').length === 1);
      await bookItem(page, 'Eric’s only book').waitFor();

      // The API holds the line too: Eric cannot change Dan's book.
      const dans = await call(base, 'GET', '/bookapi/books?limit=1', undefined, {
        authorization: `Bearer ${danToken}`,
      });
      const danBook = (dans.body.Books as { id: number; title: string }[])[0];
      assert.ok(danBook);
      const patched = await call(
        base,
        'PATCH',
        `/bookapi/books/${danBook.id}`,
        { title: 'Mine now' },
        {
          authorization: `Bearer ${ericToken}`,
        },
      );
      assert.equal(patched.status, 403);

      // A book deleted elsewhere: the page says so when Eric acts on it.
      const id = (erics.body as { id: number }).id;
      const gone = await call(base, 'DELETE', `/bookapi/books/${id}`, undefined, {
        authorization: `Bearer ${ericToken}`,
      });
      assert.equal(gone.status, 200);
      await bookItem(page, 'Eric’s only book')
        .getByRole('button', { name: /^Delete/ })
        .click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
      await bookItem(page, 'Eric’s only book').getByText('book does not exist').waitFor();

      // An admin demoted while the page still offers every book: the 403 is shown, the book stays.
      const rootToken = await apiToken(base, 'root', ROOT_PASSWORD);
      const users = await call(base, 'GET', '/admin/users?q=eric', undefined, {
        authorization: `Bearer ${rootToken}`,
      });
      const eric = (users.body.Users as { public_id: string }[])[0];
      assert.ok(eric);
      const promote = (admin: boolean) =>
        call(
          base,
          'PATCH',
          `/admin/users/${eric.public_id}`,
          { admin },
          { authorization: `Bearer ${rootToken}` },
        );
      assert.equal((await promote(true)).status, 200);
      await page.reload();
      await page.getByRole('link', { name: 'Users' }).waitFor();
      await page.getByRole('link', { name: 'All books' }).click();
      await bookItem(page, 'Dan’s book 1')
        .getByRole('button', { name: /^Delete/ })
        .waitFor();
      assert.equal((await promote(false)).status, 200);
      await bookItem(page, 'Dan’s book 1')
        .getByRole('button', { name: /^Delete/ })
        .click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
      await bookItem(page, 'Dan’s book 1')
        .getByText('Only the owner of this book or an admin may change it!')
        .waitFor();
      assert.equal(
        (
          await call(base, 'GET', `/bookapi/books/${danBook.id}`, undefined, {
            authorization: `Bearer ${danToken}`,
          })
        ).status,
        200,
      );
      assert.deepEqual(problems, []);
    } finally {
      await ctxEric.close();
    }
  });

  test('a title that is markup shows as text, and runs nothing', async () => {
    const ctx = await context();
    try {
      await account(base, 'mallory');
      const { page, problems } = await open(ctx, base);
      await login(page, 'mallory', PASSWORD);
      await page.getByRole('link', { name: 'My books' }).click();
      const markup = '<img src=x onerror=alert(1)>';
      await addBook(page, markup, '<script>alert(2)</script>');
      await page.getByText(markup, { exact: true }).waitFor();
      await page.getByText('by <script>alert(2)</script>', { exact: true }).waitFor();
      assert.equal(await page.locator('main img, main script').count(), 0);
      await page.waitForTimeout(200);
      // watch() records any dialog (alert, confirm) as a problem.
      assert.deepEqual(problems, []);
    } finally {
      await ctx.close();
    }
  });

  test('admin: a disabled user’s open page returns to the login form; sessions ended, promotion, deletion, the audit log', async () => {
    await account(base, 'frank');
    const ctxRoot = await context();
    const ctxFrank = await context();
    try {
      const frank = await open(ctxFrank, base);
      await login(frank.page, 'frank', PASSWORD);
      const root = await open(ctxRoot, base, '#/admin/users');
      await login(root.page, 'root', ROOT_PASSWORD);
      await root.page.getByRole('heading', { name: 'Users', exact: true }).waitFor();
      await root.page.getByLabel('Find users by name').fill('fra');
      await root.page.getByRole('button', { name: 'Search' }).click();
      const row = root.page.getByRole('listitem').filter({ hasText: 'frank' });
      await root.page.waitForFunction(() => document.querySelectorAll('ul.users > li').length === 1);
      await shot(root.page, 'admin-users');
      await row.getByRole('button', { name: 'Disable' }).click();
      await root.page.getByRole('dialog').getByRole('button', { name: 'Yes, do it' }).click();
      await row.getByText('disabled', { exact: true }).waitFor();

      // Frank's next request: the session is over, the page says why.
      await frank.page.getByRole('link', { name: 'My books' }).click();
      await frank.page.getByText('Your session has ended').waitFor();
      await frank.page.getByRole('heading', { name: 'Log in', exact: true }).waitFor();
      await frank.page.getByLabel('Username').fill('frank');
      await frank.page.getByLabel('Password').fill(PASSWORD);
      await frank.page.getByRole('button', { name: 'Log in' }).click();
      await frank.page.getByText('Account disabled!').waitFor();

      // Enabled again, Frank logs in.
      await row.getByRole('button', { name: 'Enable' }).click();
      await row.getByText('disabled', { exact: true }).waitFor({ state: 'detached' });
      await frank.page.getByRole('button', { name: 'Log in' }).click();
      await frank.page.getByRole('navigation', { name: 'Main' }).waitFor();

      // His sessions ended by the admin: the same, the account stays enabled.
      await row.getByRole('button', { name: 'End sessions' }).click();
      await root.page.getByRole('dialog').getByRole('button', { name: 'Yes, do it' }).click();
      await row.getByText('Sessions ended (1).').waitFor();
      await frank.page.getByRole('link', { name: 'Account' }).click();
      await frank.page.getByText('Your session has ended').waitFor();

      // Promoted and demoted: the badge follows; then deleted, after a confirmation.
      await row.getByRole('button', { name: 'Make admin' }).click();
      await root.page.getByRole('dialog').getByRole('button', { name: 'Yes, do it' }).click();
      await row.getByText('admin', { exact: true }).waitFor();
      await row.getByRole('button', { name: 'Remove admin' }).click();
      await root.page.getByRole('dialog').getByRole('button', { name: 'Yes, do it' }).click();
      await row.getByText('admin', { exact: true }).waitFor({ state: 'detached' });
      await row.getByRole('button', { name: 'Delete' }).click();
      await root.page.getByRole('dialog').getByRole('button', { name: 'Yes, do it' }).click();
      await root.page.getByText('No user found.').waitFor();
      assert.equal(
        (await call(base, 'POST', '/login', { username: 'frank', password: PASSWORD })).status,
        401,
      );

      // The audit log, filtered by type.
      await root.page.getByRole('link', { name: 'Audit log' }).click();
      await root.page.getByRole('heading', { name: 'Audit log' }).waitFor();
      await root.page.getByLabel('Event').selectOption('account.disabled');
      await root.page.getByRole('button', { name: 'Filter' }).click();
      await root.page.waitForFunction(() => location.hash.includes('type=account.disabled'));
      await root.page.locator('ul.audit strong', { hasText: 'Account disabled' }).first().waitFor();
      await root.page.waitForFunction(() => document.querySelectorAll('ul.audit > li').length === 1);
      await shot(root.page, 'audit');
      assert.deepEqual(root.problems, []);
      assert.deepEqual(frank.problems, []);
    } finally {
      await ctxRoot.close();
      await ctxFrank.close();
    }
  });

  test('log out everywhere in one browser ends the session in another', async () => {
    await account(base, 'grace');
    const ctxLaptop = await context();
    const ctxPhone = await context();
    try {
      const laptop = await open(ctxLaptop, base, '#/account');
      await login(laptop.page, 'grace', PASSWORD);
      const phone = await open(ctxPhone, base, '#/account');
      await login(phone.page, 'grace', PASSWORD);
      await laptop.page.getByRole('heading', { name: 'Account', exact: true }).waitFor();
      await laptop.page.getByRole('button', { name: 'Log out everywhere' }).click();
      await laptop.page.getByRole('dialog').getByRole('button', { name: 'Log out everywhere' }).click();
      await laptop.page.getByText('You have logged out.').waitFor();
      // The phone finds out on its next request.
      await phone.page.getByRole('link', { name: 'Books' }).click();
      await phone.page.getByText('Your session has ended').waitFor();
      // And a reload does not bring it back: the cookie's session is over.
      await phone.page.reload();
      await phone.page.getByRole('heading', { name: 'Log in', exact: true }).waitFor();
      assert.deepEqual(laptop.problems, []);
      assert.deepEqual(phone.problems, []);
    } finally {
      await ctxLaptop.close();
      await ctxPhone.close();
    }
  });

  test('another origin can neither refresh nor end the session (form posts, fetch with credentials)', async () => {
    await account(base, 'heidi');
    // Another origin on the same host: same-site, so SameSite=Strict alone would let the cookie go.
    const evil = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>elsewhere</title><body>elsewhere</body>');
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const ctx = await context();
    try {
      const app = await open(ctx, base);
      await login(app.page, 'heidi', PASSWORD);
      const other = await ctx.newPage();
      const elsewhere = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
      for (const path of ['/token/refresh', '/token/logout']) {
        await other.goto(elsewhere);
        const [res] = await Promise.all([
          other.waitForResponse((r) => r.url().endsWith(path)),
          other.evaluate((action) => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = action;
            document.body.append(form);
            form.submit();
          }, `${base}${path}`),
        ]);
        assert.match(
          (await res.request().allHeaders()).cookie ?? '',
          /bookapi_refresh=/,
          'the cookie went along',
        );
        assert.ok(res.status() >= 400 && res.status() < 500, `${path}: ${res.status()}`);
        assert.equal(res.headers()['set-cookie'], undefined, `${path} leaves the cookie alone`);
        await other.waitForURL(`${base}${path}`);
      }
      await other.goto(elsewhere);
      const answers = await other.evaluate(async (target) => {
        const out: string[] = [];
        for (const path of ['/token/refresh', '/token/logout']) {
          // With the web client's header: the preflight finds no CORS grant, and nothing is sent.
          // Without it: a simple request, sent with the cookie; the server refuses it (no header),
          // and Cross-Origin-Resource-Policy keeps even the refusal from the page.
          const variants: Record<string, string>[] = [{ 'X-Bookapi-Refresh': 'cookie' }, {}];
          for (const headers of variants) {
            const mode = 'X-Bookapi-Refresh' in headers ? 'cors' : 'no-cors';
            out.push(
              await fetch(`${target}${path}`, { method: 'POST', credentials: 'include', mode, headers }).then(
                (r) => `${mode} read ${r.type} ${r.status}`,
                () => `${mode} blocked`,
              ),
            );
          }
        }
        return out;
      }, base);
      assert.deepEqual(answers, ['cors blocked', 'no-cors blocked', 'cors blocked', 'no-cors blocked']);
      // Nothing happened to the session: no refresh, no logout since the login.
      const token = await apiToken(base, 'heidi');
      const activity = await call(base, 'GET', '/me/activity', undefined, {
        authorization: `Bearer ${token}`,
      });
      const types = (activity.body.events as { type: string }[]).map((e) => e.type);
      assert.deepEqual(types, ['login.success', 'login.success', 'login.success', 'signup']);
      await other.close();
      // The session is alive: a reload refreshes through the cookie, and the books load.
      await app.page.reload();
      await app.page.getByRole('heading', { name: 'Books', exact: true }).waitFor();
      await app.page.getByText('No books here yet.').or(app.page.locator('li.book').first()).waitFor();
      assert.deepEqual(app.problems, []);
    } finally {
      await ctx.close();
      await new Promise((resolve) => evil.close(resolve));
    }
  });

  test('account: devices, activity, a personal access token shown once, password, deletion', async () => {
    await account(base, 'ivan');
    const ctx = await context();
    await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    try {
      const { page, problems } = await open(ctx, base, '#/account');
      await login(page, 'ivan', PASSWORD);
      await page.getByRole('heading', { name: 'Account', exact: true }).waitFor();
      // Two devices: this browser and the API login made by account().
      const devices = page.locator('section[aria-labelledby="devices-heading"] li');
      await page.waitForFunction(
        () => document.querySelectorAll('section[aria-labelledby="devices-heading"] li').length === 2,
      );
      await devices.filter({ hasText: 'This browser' }).waitFor();
      await devices.filter({ hasNotText: 'This browser' }).getByRole('button', { name: 'End' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Log out device' }).click();
      await page.getByText('That device is logged out.').waitFor();
      await page.waitForFunction(
        () => document.querySelectorAll('section[aria-labelledby="devices-heading"] li').length === 1,
      );
      // Activity: the logins, newest first.
      const activity = page.locator('section[aria-labelledby="activity-heading"] li');
      await activity.first().getByText('Logged in').waitFor();

      // A token, shown once, copied, working, then revoked.
      await page.getByLabel('Token name').fill('nightly export');
      await page.getByRole('button', { name: 'Create token' }).click();
      const shown = page.getByLabel('The new token');
      await shown.waitFor();
      const token = await shown.inputValue();
      assert.match(token, /^bkp_/);
      await page.getByRole('button', { name: 'Copy' }).click();
      await page.getByText('Copied.').waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
      await shot(page, 'account');
      const read = await call(base, 'GET', '/bookapi/books', undefined, { authorization: `Bearer ${token}` });
      assert.equal(read.status, 200);
      await page.getByRole('button', { name: 'Done' }).click();
      assert.equal(await shown.count(), 0, 'never shown again');
      await page.getByRole('button', { name: 'Revoke nightly export' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
      await page.getByText('Revoked “nightly export”.').waitFor();
      const refused = await call(base, 'GET', '/bookapi/books', undefined, {
        authorization: `Bearer ${token}`,
      });
      assert.equal(refused.status, 401);

      // The password: a common one refused, then changed (this login is fresh: no prompt).
      await page.getByLabel('Current password').fill(PASSWORD);
      await page.getByLabel('New password').fill('password1234');
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByText('This password is too common; choose another one').waitFor();
      await page.getByLabel('New password').fill('a brand new passphrase');
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByText('Password changed.').waitFor();

      // Deleting the account: the wrong password is refused, the right one deletes it.
      await page.getByLabel('Password, to delete the account').fill('not it at all');
      await page.getByRole('button', { name: 'Delete account' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete account' }).click();
      await page.getByText('Password is incorrect!').waitFor();
      await page.getByLabel('Password, to delete the account').fill('a brand new passphrase');
      await page.getByRole('button', { name: 'Delete account' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete account' }).click();
      await page.getByText('Your account and its books have been deleted.').waitFor();
      const gone = await call(base, 'POST', '/login', {
        username: 'ivan',
        password: 'a brand new passphrase',
      });
      assert.equal(gone.status, 401);
      assert.deepEqual(problems, []);
    } finally {
      await ctx.close();
    }
  });

  test('at phone width (360 px) nothing overflows, and every view has its heading', async () => {
    assert.ok(browser);
    const ctx = await browser.newContext({
      viewport: { width: 360, height: 740 },
      isMobile: true,
      hasTouch: true,
    });
    try {
      const { page, problems } = await open(ctx, base);
      await login(page, 'root', ROOT_PASSWORD);
      for (const [hash, heading] of [
        ['#/books', 'Books'],
        ['#/account', 'Account'],
        ['#/admin/users', 'Users'],
        ['#/admin/audit', 'Audit log'],
      ] as const) {
        await page.goto(`${base}/${hash}`);
        await page.getByRole('heading', { name: heading, exact: true }).waitFor();
        assert.ok(await isFocused(page, 'h1'), `${hash}: the heading has the focus`);
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(wide <= 360, `${hash} is ${wide} px wide`);
      }
      await page.goto(`${base}/#/books`);
      await page.getByRole('heading', { name: 'Books', exact: true }).waitFor();
      await shot(page, 'phone-books');
      assert.deepEqual(problems, []);
    } finally {
      await ctx.close();
    }
  });
});
