import { useEffect, useRef, useState } from 'preact/hooks';
import * as api from '../api.js';
import { agent, problem, when } from '../format.js';
import * as session from '../session.js';
import type { ActivityEvent, Device, Me, NewToken, NewTokenRequest, Scope, TokenView } from '../types.js';
import { confirm, Field, freshly, Notice, Page, Pager, useAction, usePaged } from '../ui.js';
import { EVENT_LABELS } from './events.js';

export function Account({ me }: { me: Me }) {
  return (
    <Page title="Account">
      <section class="card" aria-labelledby="who-heading">
        <h2 id="who-heading">{me.username}</h2>
        <p>
          {me.admin ? 'Administrator' : 'Member'} since {when(me.created_at)}.
        </p>
      </section>
      <ChangePassword me={me} />
      <Devices />
      <Tokens me={me} />
      <Activity />
      <EndEverything me={me} />
    </Page>
  );
}

function ChangePassword({ me }: { me: Me }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [busy, message, run] = useAction();
  return (
    <section class="card" aria-labelledby="password-heading">
      <h2 id="password-heading">Change password</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            const body = { current_password: current, new_password: next };
            // A session restored by a refresh is not fresh: the password just typed logs in again.
            await freshly(me.username, () => api.call('PUT', '/me/password', body), current);
            setCurrent('');
            setNext('');
            return 'Password changed. Your other devices have been logged out.';
          });
        }}
      >
        <input type="text" hidden readOnly autocomplete="username" value={me.username} />
        <Field
          label="Current password"
          type="password"
          value={current}
          onInput={setCurrent}
          autoComplete="current-password"
          required
        />
        <Field
          label="New password"
          type="password"
          value={next}
          onInput={setNext}
          autoComplete="new-password"
          hint="8–128 characters, not a common password."
          required
        />
        <Notice message={message} />
        <button type="submit" class="primary" disabled={busy}>
          Change password
        </button>
      </form>
    </section>
  );
}

function Devices() {
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [round, setRound] = useState(0);
  const [busy, message, run, setMessage] = useAction();
  useEffect(() => {
    api.call<{ sessions: Device[] }>('GET', '/me/sessions').then(
      ({ data }) => setDevices(data.sessions),
      (e: unknown) => setMessage({ kind: 'error', text: problem(e) }),
    );
  }, [round]);
  return (
    <section class="card" aria-labelledby="devices-heading">
      <h2 id="devices-heading">Devices</h2>
      <p class="muted">Where you are logged in. Ending a device logs it out at once.</p>
      <Notice message={message} />
      <ul class="rows">
        {devices?.map((d) => (
          <li key={d.id}>
            <div>
              <strong title={d.user_agent ?? undefined}>{agent(d.user_agent)}</strong>
              {d.current && <span class="badge">This browser</span>}
              <div class="muted small">
                {d.ip ?? 'unknown address'} · logged in {when(d.created_at)} · last active{' '}
                {when(d.last_used_at)}
              </div>
            </div>
            <button
              aria-label={d.current ? undefined : `End ${agent(d.user_agent)}`}
              type="button"
              class="danger"
              disabled={busy}
              onClick={async () => {
                if (d.current) return session.logout().catch((error: Error) => window.alert(error.message));
                if (!(await confirm('Log this device out?', 'Log out device'))) return;
                const ok = await run(async () => {
                  await api.call('DELETE', `/me/sessions/${encodeURIComponent(d.id)}`);
                  return 'That device is logged out.';
                });
                if (ok) setRound((r) => r + 1);
              }}
            >
              {d.current ? 'Log out' : 'End'}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

const SCOPES: Record<Scope, string> = {
  'books:read': 'Read books',
  'books:write': 'Add, change and delete books',
  'account:read': 'Read the account and its activity',
  admin: 'Read users and the audit log',
};
const LIFETIMES: [string, number][] = [
  ['7 days', 7],
  ['30 days', 30],
  ['90 days', 90],
  ['1 year', 366],
];

function Tokens({ me }: { me: Me }) {
  const [tokens, setTokens] = useState<TokenView[] | null>(null);
  const [round, setRound] = useState(0);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['books:read']);
  const [days, setDays] = useState(30);
  const [created, setCreated] = useState<NewToken | null>(null);
  const [busy, message, run, setMessage] = useAction();
  useEffect(() => {
    api.call<{ tokens: TokenView[] }>('GET', '/me/tokens').then(
      ({ data }) => setTokens(data.tokens),
      (e: unknown) => setMessage({ kind: 'error', text: problem(e) }),
    );
  }, [round]);
  const offered = (Object.keys(SCOPES) as Scope[]).filter((s) => s !== 'admin' || me.admin);
  return (
    <section class="card" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">Personal access tokens</h2>
      <p class="muted">
        For scripts: send one as <code>Authorization: Bearer bkp_…</code>. It can never change your password
        or manage your account.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            const body: NewTokenRequest = { name, scopes, expires_in: days * 86_400 };
            const { data } = await freshly(me.username, () => api.call<NewToken>('POST', '/me/tokens', body));
            setCreated(data);
            setName('');
            setRound((r) => r + 1);
            return undefined;
          });
        }}
      >
        <Field label="Token name" value={name} onInput={setName} maxLength={100} required />
        <fieldset>
          <legend>Allowed to</legend>
          {offered.map((s) => (
            <label key={s} class="check">
              <input
                type="checkbox"
                checked={scopes.includes(s)}
                onChange={(e) =>
                  setScopes((now) => (e.currentTarget.checked ? [...now, s] : now.filter((x) => x !== s)))
                }
              />{' '}
              {SCOPES[s]} <code>{s}</code>
            </label>
          ))}
        </fieldset>
        <div class="field">
          <label for="token-days">Expires after</label>
          <select
            id="token-days"
            value={String(days)}
            onChange={(e) => setDays(Number(e.currentTarget.value))}
          >
            {LIFETIMES.map(([label, n]) => (
              <option key={n} value={String(n)}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <Notice message={message} />
        <button type="submit" class="primary" disabled={busy || scopes.length === 0}>
          Create token
        </button>
      </form>
      {created && <CreatedToken token={created} onDone={() => setCreated(null)} />}
      {tokens && tokens.length > 0 && (
        <ul class="rows">
          {tokens.map((t) => (
            <li key={t.id}>
              <div>
                <strong>{t.name}</strong> <code>{t.prefix}…</code>
                <div class="muted small">
                  {t.scopes.join(', ')} · {t.expired ? 'expired' : 'expires'} {when(t.expires_at)} · last used{' '}
                  {when(t.last_used_at)}
                </div>
              </div>
              <button
                type="button"
                class="danger"
                disabled={busy}
                aria-label={`Revoke ${t.name}`}
                onClick={async () => {
                  if (
                    !(await confirm(`Revoke the token “${t.name}”? Scripts using it stop working.`, 'Revoke'))
                  )
                    return;
                  const ok = await run(async () => {
                    await api.call('DELETE', `/me/tokens/${encodeURIComponent(t.id)}`);
                    return `Revoked “${t.name}”.`;
                  });
                  if (ok) setRound((r) => r + 1);
                }}
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The token, shown this once: the server keeps only its hash. */
function CreatedToken({ token, onDone }: { token: NewToken; onDone: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const field = useRef<HTMLInputElement>(null);
  // Selected at once: Ctrl+C copies it even without the button.
  useEffect(() => field.current?.select(), []);
  return (
    <div class="notice ok" role="status">
      <p>Token “{token.name}” created. Copy it now: it will not be shown again.</p>
      <div class="token-line">
        <input
          ref={field}
          aria-label="The new token"
          readOnly
          value={token.token}
          onFocus={(e) => e.currentTarget.select()}
          class="mono"
        />
        <button
          type="button"
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(token.token);
              setCopied('Copied.');
            } catch {
              // No clipboard access (plain HTTP by a host name): select it for Ctrl+C.
              field.current?.select();
              setCopied('Selected: press Ctrl+C (⌘C) to copy.');
            }
          }}
        >
          Copy
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
      {copied && <p class="small">{copied}</p>}
    </div>
  );
}

function Activity() {
  const paged = usePaged<ActivityEvent>(
    '/me/activity?limit=10',
    (d: { events: ActivityEvent[] }) => d.events,
  );
  return (
    <section class="card" aria-labelledby="activity-heading">
      <h2 id="activity-heading">Recent activity</h2>
      {paged.error && <Notice message={{ kind: 'error', text: paged.error }} />}
      <ul class="rows">
        {paged.items.map((e) => (
          <li key={e.id}>
            <div>
              <strong class={e.outcome === 'failure' ? 'bad' : undefined}>{EVENT_LABELS[e.type]}</strong>
              {e.by_admin && <span class="badge">by an administrator</span>}
              <div class="muted small">
                {when(e.at)}
                {e.ip && ` · ${e.ip}`}
                {e.user_agent && ` · ${agent(e.user_agent)}`}
              </div>
            </div>
          </li>
        ))}
      </ul>
      <Pager paged={paged} label="Activity" />
    </section>
  );
}

function EndEverything({ me }: { me: Me }) {
  const [password, setPassword] = useState('');
  const [busy, message, run] = useAction();
  return (
    <section class="card" aria-labelledby="end-heading">
      <h2 id="end-heading">Log out everywhere, or delete the account</h2>
      <p>
        <button
          type="button"
          disabled={busy}
          onClick={async () => {
            if (!(await confirm('Log out on every device, this one included?', 'Log out everywhere'))) return;
            await run(async () => {
              await session.logout(true);
              return undefined;
            });
          }}
        >
          Log out everywhere
        </button>
      </p>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (
            !(await confirm(
              'Delete your account and all your books? This cannot be undone.',
              'Delete account',
            ))
          )
            return;
          const ok = await run(async () => {
            await freshly(me.username, () => api.call('DELETE', '/me', { password }), password);
            return undefined;
          });
          if (ok) session.deleted();
        }}
      >
        <input type="text" hidden readOnly autocomplete="username" value={me.username} />
        <Field
          label="Password, to delete the account"
          type="password"
          value={password}
          onInput={setPassword}
          autoComplete="current-password"
          required
        />
        <Notice message={message} />
        <button type="submit" class="danger" disabled={busy}>
          Delete account
        </button>
      </form>
    </section>
  );
}
