import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { type Algorithm, hash, parseOptions, verify } from '@node-rs/argon2';
import { Semaphore } from '../util/semaphore.js';

/** OWASP Password Storage Cheat Sheet minimum for argon2id: 19 MiB, 2 passes, 1 lane. */
export const ARGON2_PARAMS = {
  algorithm: 2 as Algorithm, // Argon2id (the package exports it as an ambient const enum)
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * Hashing runs on libuv's thread pool, off the event loop. Each hash keeps a
 * core busy for tens of milliseconds, so at most (cores - 1) run at once:
 * a login flood queues here instead of starving the event loop of CPU.
 */
const hashing = new Semaphore(Math.max(1, os.availableParallelism() - 1));

export type HashOperation = 'hash' | 'verify';
/** Told how long each hash or verify took, in seconds, not counting its wait for a slot. */
export type HashListener = (operation: HashOperation, seconds: number) => void;

const listeners = new Set<HashListener>();
/** Calls waiting for a slot right now. */
let queued = 0;

/** Adds a listener (the metrics); returns the function that removes it. */
export function onPasswordHash(listener: HashListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** How many hashes and verifies wait for a slot: a login flood shows here first. */
export function passwordHashQueueLength(): number {
  return queued;
}

function timed<T>(operation: HashOperation, task: () => Promise<T>): Promise<T> {
  queued++;
  return hashing.run(async () => {
    queued--;
    const start = performance.now();
    try {
      return await task();
    } finally {
      const seconds = (performance.now() - start) / 1000;
      for (const listener of listeners) listener(operation, seconds);
    }
  });
}

export function hashPassword(password: string): Promise<string> {
  return timed('hash', () => hash(password, ARGON2_PARAMS));
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await timed('verify', () => verify(passwordHash, password));
  } catch {
    // A malformed stored hash must never let anyone in, nor crash a login.
    return false;
  }
}

/** True when a stored hash was made with weaker parameters than today's. */
export function needsRehash(passwordHash: string): boolean {
  try {
    const p = parseOptions(passwordHash);
    return (
      p.algorithm !== ARGON2_PARAMS.algorithm ||
      p.memoryCost < ARGON2_PARAMS.memoryCost ||
      p.timeCost < ARGON2_PARAMS.timeCost
    );
  } catch {
    return true;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * A hash of a random password, verified when the username is unknown so that
 * "no such user" costs the same time as "wrong password".
 */
export function getDummyHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(32).toString('base64'));
  return dummyHash;
}
