import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { go } from '../router.js';
import * as session from '../session.js';
import { Field, Notice, Page, useAction } from '../ui.js';

export function Login({ notice }: { notice?: string | undefined }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, message, run] = useAction();
  return (
    <Page title="Log in">
      {notice && !message && (
        <p class="notice info" role="status">
          {notice}
        </p>
      )}
      <form
        class="card narrow"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            await session.login(username, password);
            return undefined;
          });
        }}
      >
        <Field label="Username" value={username} onInput={setUsername} autoComplete="username" required />
        <Field
          label="Password"
          type="password"
          value={password}
          onInput={setPassword}
          autoComplete="current-password"
          required
        />
        <Notice message={message} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
      <p>
        New here? <a href="#/signup">Create an account</a>.
      </p>
    </Page>
  );
}

export function Signup() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, message, run] = useAction();
  return (
    <Page title="Create an account">
      <form
        class="card narrow"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            await api.post('/signup', { username, password });
            await session.login(username, password);
            go('/books');
            return undefined;
          });
        }}
      >
        <Field
          label="Username"
          value={username}
          onInput={setUsername}
          autoComplete="username"
          hint="3–64 letters, digits or punctuation; words separated by single spaces."
          required
        />
        <Field
          label="Password"
          type="password"
          value={password}
          onInput={setPassword}
          autoComplete="new-password"
          hint="8–128 characters; a long passphrase is best. Common passwords are refused."
          required
        />
        <Notice message={message} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Sign up'}
        </button>
      </form>
      <p>
        Already registered? <a href="#/login">Log in</a>.
      </p>
    </Page>
  );
}
