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

/**
 * The look-alike identity of a username key. A user shows their name in any
 * case they like, so `paypaI` (capital i) must collide with `paypal`, and
 * Cyrillic `НАСКЕR` with `hacker`, though keys are lower case: some
 * prototypes exist only for capitals (Н → H), others only for small letters
 * (m → rn). The key is taken through both.
 */
export function usernameSkeleton(key: string): string {
  return skeleton(skeleton(key.toUpperCase()).toLowerCase()).toLowerCase().normalize('NFD');
}
