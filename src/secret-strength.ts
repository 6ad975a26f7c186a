import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';

let factory: ZxcvbnFactory | undefined;
const known = new Map<string, number>();

/**
 * log10 of the guesses zxcvbn expects an attacker to need. The estimate costs
 * up to ~100 ms for a long secret, so it is built on first use and each
 * secret is estimated once per process.
 */
export function secretGuessesLog10(secret: string): number {
  let guesses = known.get(secret);
  if (guesses === undefined) {
    factory ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs });
    guesses = factory.check(secret).guessesLog10;
    known.set(secret, guesses);
  }
  return guesses;
}
