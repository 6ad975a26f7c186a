// Who is logged in, shared by every component, and kept in step with the other tabs.
import { useEffect, useState } from 'preact/hooks';
import * as api from './api.js';
import type { Me } from './types.js';

export type Session =
  | { state: 'restoring' }
  | { state: 'anonymous'; notice?: string }
  | { state: 'active'; me: Me };

let current: Session = { state: 'restoring' };
const listeners = new Set<(s: Session) => void>();
// Tabs tell each other of logins and logouts, so a tab does not wait for its next request to know.
const tabs = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel('bookapi') : undefined;

function set(next: Session): void {
  current = next;
  for (const l of listeners) l(next);
}

export function useSession(): Session {
  const [s, setS] = useState(current);
  useEffect(() => {
    listeners.add(setS);
    setS(current);
    return () => {
      listeners.delete(setS);
    };
  }, []);
  return s;
}

const ENDED: Record<api.SessionEnd | 'removed' | 'logout' | 'elsewhere', string> = {
  ended:
    'Your session has ended: you were logged out on another device, or by an administrator. Log in again to continue.',
  deleted: 'This account no longer exists.',
  removed: 'Your account and its books have been deleted.',
  logout: 'You have logged out.',
  elsewhere: 'You logged out in another tab.',
};

function end(why: keyof typeof ENDED, tell = true): void {
  api.forgetToken();
  // Several requests may fail at once: the first one decides the message.
  if (current.state === 'anonymous') return;
  set({ state: 'anonymous', notice: ENDED[why] });
  if (tell) tabs?.postMessage({ type: 'end', why });
}

api.onSessionEnd((why) => end(why));
// A refresh brought another user's token (another tab logged in as someone else): never act as one
// user while showing another.
api.onUserSwitch(() => void loadMe());

async function loadMe(): Promise<void> {
  const { data } = await api.call<Me>('GET', '/me');
  set({ state: 'active', me: data });
}

/** At start: the refresh cookie, if any, brings the session back without a password. */
export async function restore(): Promise<void> {
  try {
    if (await api.restore()) return await loadMe();
  } catch (error) {
    // Only a 401 means "not logged in"; anything else says why, as the session may well be alive.
    if (current.state !== 'active')
      set({
        state: 'anonymous',
        notice: `The server could not be reached or is unavailable (${(error as Error).message}). Reload the page to try again.`,
      });
    return;
  }
  if (current.state !== 'active') set({ state: 'anonymous' });
}

export async function login(username: string, password: string): Promise<void> {
  await api.login(username, password);
  await loadMe();
  tabs?.postMessage({ type: 'login' });
}

/**
 * Logs out (of every device, with `everywhere`). Only when the server confirms it, or says the
 * session was over already: a logout that did not reach the server must not look done — on a
 * shared computer the next person would find the account open.
 */
export async function logout(everywhere = false): Promise<void> {
  try {
    await (everywhere ? api.logoutEverywhere() : api.logout());
  } catch (error) {
    if (!(error instanceof api.ApiFailure && error.status === 401))
      throw new api.ApiFailure(
        0,
        'NETWORK',
        `Could not log out (${(error as Error).message}). You are still logged in here: try again.`,
      );
  }
  end('logout');
}

/** After the account was deleted. */
export function deleted(): void {
  end('removed');
}

/** The user's name and rights changed (a promotion seen on /me, say). */
export function refreshMe(): Promise<void> {
  return loadMe();
}

tabs?.addEventListener('message', (e: MessageEvent<{ type: string; why?: keyof typeof ENDED }>) => {
  const { type, why } = e.data;
  if (type === 'end' && current.state === 'active')
    end(why === 'logout' ? 'elsewhere' : (why ?? 'ended'), false);
  // Another tab logged in: this one joins that session through the shared cookie (and, if it
  // showed someone else, now shows who it acts as).
  if (type === 'login') void restore();
});
