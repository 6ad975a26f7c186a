import { CONFUSABLES } from './unicode-data.js';

let prototypes: Map<string, string> | undefined;

function prototypeTable(): Map<string, string> {
  prototypes ??= new Map(
    CONFUSABLES.trim()
      .split('\n')
      .map((line) => {
        const [from = '', ...to] = line.split(' ');
        const char = (hex: string) => String.fromCodePoint(Number.parseInt(hex, 16));
        return [char(from), to.map(char).join('')];
      }),
  );
  return prototypes;
}

/**
 * skeleton(X) of Unicode TS #39 §4: NFD, drop Default_Ignorable_Code_Point,
 * replace each character by its confusables.txt prototype, NFD again. Two
 * strings with one skeleton look alike. Not for display.
 */
export function skeleton(text: string): string {
  const table = prototypeTable();
  let out = '';
  for (const ch of text.normalize('NFD').replace(/\p{Default_Ignorable_Code_Point}/gu, '')) {
    out += table.get(ch) ?? ch;
  }
  return out.normalize('NFD');
}

/** The two look-alike identities of a username key; see usernameSkeletons. */
export interface UsernameSkeletons {
  /** The name as shown in small letters. */
  lower: string;
  /** The name as shown in capitals. */
  upper: string;
}

/**
 * The look-alike identities of a username key. A user shows their name in
 * any case they like, and some prototypes exist only for one form of a
 * letter: capital I is l (`paypaI` is `paypal`) and Cyrillic Н is H, but
 * Cyrillic г is r while its capital Г is Greek Γ. One skeleton through both
 * cases loses one side, so a name has two: one of its small letters, one of
 * its capitals. Two names look alike when either matches the same one of the
 * other.
 */
export function usernameSkeletons(key: string): UsernameSkeletons {
  return { lower: settle(key), upper: settle(key.toUpperCase()) };
}

/**
 * Skeleton in small letters, again until nothing changes: a prototype may be
 * a capital (0 → O) whose small form has a prototype of its own.
 */
function settle(text: string): string {
  let out = text;
  for (let i = 0; i < 8; i++) {
    const next = skeleton(out).toLowerCase().normalize('NFD');
    if (next === out) break;
    out = next;
  }
  return out;
}
