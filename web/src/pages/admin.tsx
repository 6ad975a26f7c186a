import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import { agent, when } from '../format.js';
import { go, href } from '../router.js';
import * as session from '../session.js';
import type { AdminUser, AuditEntry, AuditType, Me, UserPage } from '../types.js';
import { confirm, Field, freshly, Notice, Page, Pager, useAction, usePaged } from '../ui.js';
import { EVENT_LABELS } from './events.js';

export function AdminUsers({ me, params }: { me: Me; params: URLSearchParams }) {
  const q = params.get('q') ?? '';
  const query = new URLSearchParams({ limit: '25' });
  if (q) query.set('q', q);
  const paged = usePaged<AdminUser>(`/admin/users?${query}`, (d: UserPage) => d.Users);
  const [search, setSearch] = useState(q);
  useEffect(() => setSearch(q), [q]);
  return (
    <Page title="Users">
      <search>
        <form
          class="search"
          onSubmit={(e) => {
            e.preventDefault();
            go('/admin/users', { q: search.trim() });
          }}
        >
          <Field label="Find users by name" type="search" value={search} onInput={setSearch} maxLength={64} />
          <button type="submit">Search</button>
          {q && (
            <a class="button" href={href('/admin/users')}>
              Clear
            </a>
          )}
        </form>
      </search>
      {paged.error && <Notice message={{ kind: 'error', text: paged.error }} />}
      {!paged.loading && !paged.error && paged.items.length === 0 && <p class="muted">No user found.</p>}
      <ul class="rows users">
        {paged.items.map((u) => (
          <UserItem key={u.public_id} user={u} me={me} onChanged={paged.reload} />
        ))}
      </ul>
      <Pager paged={paged} label="Users" />
    </Page>
  );
}

function UserItem({ user, me, onChanged }: { user: AdminUser; me: Me; onChanged: () => void }) {
  const [busy, message, run] = useAction();
  const self = user.public_id === me.public_id;
  const act = async (ask: string | null, action: () => Promise<string>) => {
    if (ask && !(await confirm(ask, 'Yes, do it'))) return;
    const ok = await run(() => freshly(me.username, action));
    if (ok) {
      onChanged();
      if (self) await session.refreshMe().catch(() => {});
    }
  };
  const patch = (change: { admin?: boolean; disabled?: boolean }) => async () => {
    await api.call('PATCH', `/admin/users/${user.public_id}`, change);
    return 'Saved.';
  };
  return (
    <li>
      <div>
        <strong>{user.username}</strong>
        {self && <span class="badge">you</span>}
        {user.admin && <span class="badge">admin</span>}
        {user.disabled && <span class="badge bad">disabled</span>}
        <div class="muted small">
          since {when(user.created_at)} ·{' '}
          <a href={href('/admin/audit', { user: user.public_id })}>activity</a>
        </div>
        <Notice message={message} />
      </div>
      <div class="actions">
        <button
          aria-label={`${user.disabled ? 'Enable' : 'Disable'} ${user.username}`}
          type="button"
          disabled={busy}
          onClick={() =>
            act(
              user.disabled ? null : `Disable ${user.username}? Their sessions end at once.`,
              patch({ disabled: !user.disabled }),
            )
          }
        >
          {user.disabled ? 'Enable' : 'Disable'}
        </button>
        <button
          aria-label={`${user.admin ? 'Remove admin' : 'Make admin'}: ${user.username}`}
          type="button"
          disabled={busy}
          onClick={() =>
            act(
              user.admin
                ? `Remove ${user.username}’s administrator rights?`
                : `Make ${user.username} an administrator?`,
              patch({ admin: !user.admin }),
            )
          }
        >
          {user.admin ? 'Remove admin' : 'Make admin'}
        </button>
        <button
          aria-label={`End sessions of ${user.username}`}
          type="button"
          disabled={busy}
          onClick={() =>
            act(`Log ${user.username} out of every device?`, async () => {
              const { data } = await api.call<{ message: string; ended: number }>(
                'DELETE',
                `/admin/users/${user.public_id}/sessions`,
              );
              return `${data.message} (${data.ended}).`;
            })
          }
        >
          End sessions
        </button>
        <button
          aria-label={`Delete ${user.username}`}
          type="button"
          class="danger"
          disabled={busy}
          onClick={() =>
            act(`Delete ${user.username} and all their books? This cannot be undone.`, async () => {
              await api.call('DELETE', `/admin/users/${user.public_id}`);
              return 'Deleted.';
            })
          }
        >
          Delete
        </button>
      </div>
    </li>
  );
}

function localInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const shifted = new Date(d.getTime() - d.getTimezoneOffset() * 60_000);
  return shifted.toISOString().slice(0, 16);
}

export function AdminAudit({ me, params }: { me: Me; params: URLSearchParams }) {
  const user = params.get('user') ?? '';
  const type = params.get('type') ?? '';
  const since = params.get('since') ?? '';
  const query = new URLSearchParams({ limit: '25' });
  if (user) query.set('user', user);
  if (type) query.set('type', type);
  if (since) query.set('since', since);
  const paged = usePaged<AuditEntry>(`/admin/audit?${query}`, (d: { events: AuditEntry[] }) => d.events);
  const [form, setForm] = useState({ user, type, since: localInput(since) });
  useEffect(() => setForm({ user, type, since: localInput(since) }), [user, type, since]);
  return (
    <Page title="Audit log">
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          const at = form.since ? new Date(form.since) : null;
          go('/admin/audit', {
            user: form.user.trim(),
            type: form.type,
            since: at && !Number.isNaN(at.getTime()) ? at.toISOString() : undefined,
          });
        }}
      >
        <Field
          label="User (public id)"
          value={form.user}
          onInput={(v) => setForm({ ...form, user: v })}
          maxLength={36}
        />
        <div class="field">
          <label for="audit-type">Event</label>
          <select
            id="audit-type"
            value={form.type}
            onChange={(e) => setForm({ ...form, type: e.currentTarget.value })}
          >
            <option value="">Any</option>
            {(Object.keys(EVENT_LABELS) as AuditType[]).map((t) => (
              <option key={t} value={t}>
                {EVENT_LABELS[t]}
              </option>
            ))}
          </select>
        </div>
        <Field
          label="Since"
          type="datetime-local"
          value={form.since}
          onInput={(v) => setForm({ ...form, since: v })}
        />
        <div class="actions">
          <button type="submit" class="primary">
            Filter
          </button>
          {(user || type || since) && (
            <a class="button" href={href('/admin/audit')}>
              Clear
            </a>
          )}
        </div>
      </form>
      {paged.error && <Notice message={{ kind: 'error', text: paged.error }} />}
      {!paged.loading && !paged.error && paged.items.length === 0 && <p class="muted">No event.</p>}
      <ul class="rows audit">
        {paged.items.map((e) => (
          <li key={e.id}>
            <div>
              <strong class={e.outcome === 'failure' ? 'bad' : undefined}>{EVENT_LABELS[e.type]}</strong>{' '}
              <span class="muted small">({e.outcome})</span>
              <div class="muted small">
                {when(e.at)}
                {e.ip && ` · ${e.ip}`}
                {e.user_agent && ` · ${agent(e.user_agent)}`}
              </div>
              <div class="small">
                {e.actor_id && <Who label="by" id={e.actor_id} me={me} />}
                {e.subject_id && e.subject_id !== e.actor_id && (
                  <Who label="about" id={e.subject_id} me={me} />
                )}
                {e.username && <span>name tried: “{e.username}” </span>}
                {e.detail && <code class="detail">{JSON.stringify(e.detail)}</code>}
              </div>
            </div>
          </li>
        ))}
      </ul>
      <Pager paged={paged} label="Audit log" />
    </Page>
  );
}

/** A user by public id (the log names no one): "you", or the id's start, linking to their events. */
function Who({ label, id, me }: { label: string; id: string; me: Me }) {
  return (
    <span>
      {label}{' '}
      <a
        href={href('/admin/audit', { user: id })}
        title={`Events of ${id}`}
        class={id === me.public_id ? undefined : 'mono'}
      >
        {id === me.public_id ? 'you' : id.slice(0, 8)}
      </a>{' '}
    </span>
  );
}
