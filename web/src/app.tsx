import { useEffect } from 'preact/hooks';
import { Account } from './pages/account.js';
import { AdminAudit, AdminUsers } from './pages/admin.js';
import { Books } from './pages/books.js';
import { Login, Signup } from './pages/login.js';
import { go, type Route, useRoute } from './router.js';
import * as session from './session.js';
import type { Me } from './types.js';
import { Dialogs, Page } from './ui.js';

export function App() {
  const s = session.useSession();
  const route = useRoute();
  useEffect(() => {
    void session.restore();
  }, []);
  const anonymous = s.state !== 'active';
  useEffect(() => {
    // Logged in at the login or signup form: on to the library.
    if (!anonymous && ['/', '/login', '/signup'].includes(route.path)) go('/books');
  }, [anonymous, route.path]);

  return (
    <>
      <Header me={s.state === 'active' ? s.me : null} path={route.path} />
      <main id="main">
        {s.state === 'restoring' ? (
          <p class="muted">Loading…</p>
        ) : s.state === 'anonymous' ? (
          route.path === '/signup' ? (
            <Signup />
          ) : (
            <Login notice={s.notice} />
          )
        ) : (
          <View me={s.me} route={route} />
        )}
      </main>
      <Dialogs />
    </>
  );
}

function View({ me, route }: { me: Me; route: Route }) {
  switch (route.path) {
    case '/books':
      return <Books me={me} params={route.params} />;
    case '/account':
      return <Account me={me} />;
    case '/admin/users':
      return me.admin ? <AdminUsers me={me} params={route.params} /> : <NotAdmin />;
    case '/admin/audit':
      return me.admin ? <AdminAudit me={me} params={route.params} /> : <NotAdmin />;
    case '/':
    case '/login':
    case '/signup':
      return null;
    default:
      return (
        <Page title="Not found">
          <p>
            There is no such page. Go to the <a href="#/books">books</a>.
          </p>
        </Page>
      );
  }
}

function NotAdmin() {
  return (
    <Page title="Administrators only">
      <p>This page is for administrators.</p>
    </Page>
  );
}

function Header({ me, path }: { me: Me | null; path: string }) {
  const link = (to: string, label: string) => (
    <li>
      <a href={`#${to}`} aria-current={path === to ? 'page' : undefined}>
        {label}
      </a>
    </li>
  );
  return (
    <header>
      <a class="brand" href="#/books">
        <img src={FAVICON} alt="" width={24} height={24} />
        bookapi
      </a>
      {me && (
        <>
          <nav aria-label="Main">
            <ul>
              {link('/books', 'Books')}
              {link('/account', 'Account')}
              {me.admin && link('/admin/users', 'Users')}
              {me.admin && link('/admin/audit', 'Audit log')}
            </ul>
          </nav>
          <div class="who">
            <span class="muted">{me.username}</span>
            <button
              type="button"
              onClick={() => void session.logout().catch((error: Error) => window.alert(error.message))}
            >
              Log out
            </button>
          </div>
        </>
      )}
    </header>
  );
}

/** The hashed icon's URL, written into the page by the build (the same file as the favicon). */
const FAVICON = document.querySelector<HTMLLinkElement>('link[rel="icon"]')?.href ?? '';
