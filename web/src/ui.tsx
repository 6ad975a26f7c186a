// The few pieces every view shares: its heading, messages, labelled fields, dialogs and pages.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import * as api from './api.js';
import { problem } from './format.js';

/** A view: its heading takes the focus when the view opens, so a screen reader announces it. */
export function Page({ title, children }: { title: string; children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · bookapi`;
    heading.current?.focus();
  }, [title]);
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        {title}
      </h1>
      {children}
    </>
  );
}

export type Message = { kind: 'error' | 'ok'; text: string } | null;

/** Errors interrupt (role=alert); confirmations are read when the reader is idle. */
export function Notice({ message }: { message: Message }) {
  if (!message) return null;
  return (
    <p class={`notice ${message.kind}`} role={message.kind === 'error' ? 'alert' : 'status'}>
      {message.text}
    </p>
  );
}

/** Runs an action with a busy flag and the API's message on failure. */
export function useAction(): [
  busy: boolean,
  message: Message,
  run: (action: () => Promise<string | undefined>) => Promise<boolean>,
  setMessage: (m: Message) => void,
] {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<Message>(null);
  const run = useCallback(async (action: () => Promise<string | undefined>) => {
    setBusy(true);
    setMessage(null);
    try {
      const done = await action();
      setMessage(done ? { kind: 'ok', text: done } : null);
      return true;
    } catch (error) {
      setMessage({ kind: 'error', text: problem(error) });
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return [busy, message, run, setMessage];
}

interface FieldProps {
  label: string;
  value: string;
  onInput: (value: string) => void;
  type?: 'text' | 'password' | 'search' | 'datetime-local';
  hint?: string;
  autoComplete?: string;
  required?: boolean;
  maxLength?: number;
}

export function Field({ label, value, onInput, type = 'text', hint, ...rest }: FieldProps) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        // One of the plain text types; Preact's typings tell input types apart by attributes this never sets.
        type={type as 'text'}
        value={value}
        onInput={(e) => onInput(e.currentTarget.value)}
        aria-describedby={hint ? `${id}-hint` : undefined}
        autocomplete={rest.autoComplete}
        required={rest.required}
        maxLength={rest.maxLength}
        spellcheck={false}
      />
      {hint && (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

type Ask =
  | { kind: 'confirm'; text: string; action: string; resolve: (ok: boolean) => void }
  | { kind: 'password'; text: string; resolve: (password: string | null) => void };

let show: (ask: Ask) => void = () => {};

/** A modal question; resolves true when confirmed. */
export function confirm(text: string, action: string): Promise<boolean> {
  return new Promise((resolve) => show({ kind: 'confirm', text, action, resolve }));
}

function askPassword(text: string): Promise<string | null> {
  return new Promise((resolve) => show({ kind: 'password', text, resolve }));
}

/**
 * Runs a change that needs a fresh login. When the API answers 401 FRESH_LOGIN_REQUIRED, the
 * password is asked again (or the one just typed is used), the user logs in again, and the change
 * is retried once.
 */
export async function freshly<T>(username: string, action: () => Promise<T>, password?: string): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof api.ApiFailure && error.code === 'FRESH_LOGIN_REQUIRED')) throw error;
    const given =
      password ?? (await askPassword('For this change, confirm who you are: enter your password again.'));
    if (given === null) throw new Error('Not changed: this needs your password.');
    try {
      await api.loginAgain(username, given);
    } catch (failed) {
      // The login's "Could not verify!" means, here, the password just given.
      if (failed instanceof api.ApiFailure && failed.code === 'INVALID_CREDENTIALS')
        throw new api.ApiFailure(401, 'INVALID_CREDENTIALS', 'Password is incorrect!');
      throw failed;
    }
    return action();
  }
}

/** The one place dialogs open; rendered once by the app. */
export function Dialogs() {
  const [ask, setAsk] = useState<Ask | null>(null);
  const [password, setPassword] = useState('');
  const dialog = useRef<HTMLDialogElement>(null);
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    show = (next) => {
      setPassword('');
      setAsk(next);
    };
  }, []);
  useEffect(() => {
    if (!ask || !dialog.current) return;
    dialog.current.showModal();
    // The safe choice first: Enter or Space on a confirmation does not delete anything.
    if (ask.kind === 'confirm') first.current?.focus();
  }, [ask]);
  const close = (answer: boolean) => {
    if (!ask) return;
    if (ask.kind === 'confirm') ask.resolve(answer);
    else ask.resolve(answer ? password : null);
    dialog.current?.close();
    setAsk(null);
  };
  if (!ask) return null;
  const titleId = 'dialog-title';
  return (
    <dialog
      ref={dialog}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        close(false);
      }}
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          close(true);
        }}
      >
        <p id={titleId} class="question">
          {ask.text}
        </p>
        {ask.kind === 'password' && (
          <Field
            label="Password"
            type="password"
            value={password}
            onInput={setPassword}
            autoComplete="current-password"
            required
          />
        )}
        <div class="actions">
          {ask.kind === 'confirm' && (
            <button type="button" ref={first} onClick={() => close(false)}>
              Cancel
            </button>
          )}
          <button type="submit" class={ask.kind === 'confirm' ? 'danger' : 'primary'}>
            {ask.kind === 'confirm' ? ask.action : 'Continue'}
          </button>
          {ask.kind === 'password' && (
            <button type="button" onClick={() => close(false)}>
              Cancel
            </button>
          )}
        </div>
      </form>
    </dialog>
  );
}

export interface Paged<T> {
  items: T[];
  loading: boolean;
  error: string | null;
  page: number;
  hasNext: boolean;
  next(): void;
  previous(): void;
  reload(): void;
}

/**
 * Keyset pages: the first page's URL, then each `Link: rel="next"`; going back replays the URLs
 * already seen. A new first URL (a new search) starts again at page 1.
 */
export function usePaged<T>(first: string, pick: (data: never) => T[]): Paged<T> {
  const [trail, setTrail] = useState({ first, urls: [first] });
  const [items, setItems] = useState<T[]>([]);
  const [nextUrl, setNextUrl] = useState<string | undefined>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  const pickRef = useRef(pick);
  pickRef.current = pick;
  const urls = trail.first === first ? trail.urls : [first];
  const url = urls.at(-1) ?? first;
  useEffect(() => {
    let live = true;
    setLoading(true);
    api.call<never>('GET', url).then(
      ({ data, res }) => {
        if (!live) return;
        setItems(pickRef.current(data));
        setNextUrl(api.nextLink(res));
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (!live) return;
        // The previous answer was for another question: never shown under this one's error.
        setItems([]);
        setNextUrl(undefined);
        setError(problem(e));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [url, round]);
  return {
    items,
    loading,
    error,
    page: urls.length,
    hasNext: nextUrl !== undefined,
    next: () => {
      if (nextUrl) setTrail({ first, urls: [...urls, nextUrl] });
    },
    previous: () => setTrail({ first, urls: urls.length > 1 ? urls.slice(0, -1) : urls }),
    reload: () => setRound((r) => r + 1),
  };
}

export function Pager({ paged, label }: { paged: Paged<unknown>; label: string }) {
  if (paged.page === 1 && !paged.hasNext) return null;
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <button type="button" onClick={paged.previous} disabled={paged.page === 1 || paged.loading}>
        Previous page
      </button>
      <span aria-live="polite">Page {paged.page}</span>
      <button type="button" onClick={paged.next} disabled={!paged.hasNext || paged.loading}>
        Next page
      </button>
    </nav>
  );
}
