// Usernames follow the PRECIS UsernameCaseMapped profile (RFC 8265 §3.3, on
// the IdentifierClass of RFC 8264 §4.2): `Alice`, `alice` and `ａｌｉｃｅ` are
// one account. A username is one or more userparts separated by single ASCII
// spaces (RFC 8265 §3.1); each userpart must pass the profile. The spelling a
// user chose is stored and shown (in NFC); signup, login, throttling and the
// database's unique index compare keys.
import { BIDI, WIDTH } from './unicode-data.js';

/** Counted in code points of the key, so a decomposed é counts once. */
export const USERNAME_LENGTH = { min: 3, max: 64 } as const;

/**
 * The one identity of a username (RFC 8265 §3.3.2 enforcement): width
 * mapping, Unicode toLowerCase(), NFC. Never throws, so any string — valid or
 * not, typed at a login or stored before these rules — has a key.
 */
export function usernameKey(username: string): string {
  let out = username;
  // RFC 8264 §7: the rules are applied again until the result is stable.
  for (let i = 0; i < 4; i++) {
    const next = mapWidth(out).toLowerCase().normalize('NFC');
    if (next === out) break;
    out = next;
  }
  return out;
}

export type UsernameCheck = { ok: true; display: string; key: string } | { ok: false; message: string };

/** Whether a new username may be registered; if so, its display form and key. */
export function checkUsername(username: string): UsernameCheck {
  const display = username.normalize('NFC');
  const key = usernameKey(username);
  const length = [...key].length;
  if (length < USERNAME_LENGTH.min || length > USERNAME_LENGTH.max) {
    return refuse(
      `Username must be ${USERNAME_LENGTH.min}-${USERNAME_LENGTH.max} characters long (counted after normalisation)`,
    );
  }
  const parts = username.split(' ').map(usernameKey);
  if (parts.some((part) => part === '')) {
    return refuse('Username must not start or end with a space, nor have two spaces in a row');
  }
  for (const part of parts) {
    const problem = identifierProblem(part);
    if (problem) return refuse(problem);
  }
  const marks = markProblem(mapWidth(username).normalize('NFD'));
  if (marks) return refuse(marks);
  if (!passesBidiRule(parts)) {
    return refuse(
      'Username mixes right-to-left and left-to-right text in a way that can display misleadingly',
    );
  }
  return { ok: true, display, key };
}

const refuse = (message: string): UsernameCheck => ({ ok: false, message });

const codePoint = (ch: string) => `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

// RFC 8265 §3.3.1 rule 1 maps only <wide> and <narrow> decompositions. Full
// NFKC would also fold ligatures, superscripts and styled letters, which the
// IdentifierClass refuses instead (HasCompat, RFC 8264 §9.17).
let widthTable: Map<number, string> | undefined;

function mapWidth(text: string): string {
  if (!/[\u3000\uFF01-\uFFEE]/.test(text)) return text;
  widthTable ??= new Map(
    WIDTH.trim()
      .split('\n')
      .map((line) => {
        const [from = '', to = ''] = line.split(' ');
        return [Number.parseInt(from, 16), String.fromCodePoint(Number.parseInt(to, 16))];
      }),
  );
  let out = '';
  for (const ch of text) out += widthTable.get(ch.codePointAt(0) ?? 0) ?? ch;
  return out;
}

/** RFC 5892 §2.6, used by RFC 8264 §9.6. */
const EXCEPTION_PVALID = /[\u00DF\u03C2\u06FD\u06FE\u0F0B\u3007]/u;
const EXCEPTION_CONTEXTO = /[\u00B7\u0375\u05F3\u05F4\u0660-\u0669\u06F0-\u06F9\u30FB]/u;
const EXCEPTION_DISALLOWED = /[\u0640\u07FA\u302E\u302F\u3031-\u3035\u303B]/u;
/** Hangul_Syllable_Type L, V and T (RFC 8264 §9.9): conjoining jamo, the fillers U+115F/U+1160 among them. */
const OLD_HANGUL_JAMO = /[\u1100-\u11FF\uA960-\uA97C\uD7B0-\uD7C6\uD7CB-\uD7FB]/u;
const LETTER_DIGITS = /[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]/u;
/**
 * Characters that show nothing, or a blank, where they stand. Beyond the
 * Default_Ignorable ones: U+2800 BRAILLE PATTERN BLANK, and marks that
 * fonts draw as nothing though they are not ignorable — U+2D7F TIFINAGH
 * CONSONANT JOINER, U+1107F BRAHMI NUMBER JOINER, U+16FE4 KHITAN SMALL
 * SCRIPT FILLER. (A regular-expression class body: book titles use it too.)
 */
export const BLANK_CLASS =
  '\\p{Default_Ignorable_Code_Point}\\u2800\\u115F\\u1160\\u3164\\uFFA0\\u2D7F\\u{1107F}\\u{16FE4}';
const INVISIBLE = new RegExp(`[${BLANK_CLASS}\\p{Noncharacter_Code_Point}\\p{Cf}\\p{Zs}\\p{Zl}\\p{Zp}]`, 'u');

/**
 * The IdentifierClass (RFC 8264 §8–9, rules in their order), with ZWJ/ZWNJ
 * (CONTEXTJ) refused outright: they are invisible. Says what is wrong, or
 * nothing.
 */
function identifierProblem(part: string): string | undefined {
  const chars = [...part];
  for (const [i, ch] of chars.entries()) {
    const refused = (what: string) => `Username contains ${codePoint(ch)}, ${what}, which is not allowed`;
    if (EXCEPTION_PVALID.test(ch)) continue;
    if (EXCEPTION_CONTEXTO.test(ch)) {
      if (!contextAllows(chars, i)) return refused('a character allowed only between particular letters');
      continue;
    }
    if (EXCEPTION_DISALLOWED.test(ch)) return refused('a character disallowed in identifiers');
    if (/\p{Cn}|\p{Cs}/u.test(ch)) return refused('an unassigned code point');
    if (/[\u0021-\u007E]/.test(ch)) continue;
    if (INVISIBLE.test(ch) || OLD_HANGUL_JAMO.test(ch)) return refused('an invisible or blank character');
    if (/\p{Cc}/u.test(ch)) return refused('a control character');
    if (ch.normalize('NFKC') !== ch) {
      return refused('a compatibility form (a ligature, superscript, styled or circled letter, …)');
    }
    if (LETTER_DIGITS.test(ch)) continue;
    return refused('a symbol or punctuation mark outside ASCII');
  }
  // RFC 5891 §4.2.3.2, for the same reason as in domain names: a mark alone shows nothing of its own.
  if (/^\p{M}/u.test(part)) return 'Username must not start a word with a combining mark';
  return undefined;
}

/** Soft-dotted letters (i, j, Cyrillic і, …) and the dotless ı and ȷ: a dot above makes them i or j. */
const DOTTED_BASE = /[\p{Soft_Dotted}\u0131\u0237]/u;

/**
 * Unicode TS #39 §5.4: marks that change nothing visible — a dot above a
 * letter that has one already (or on ı, ȷ: then they are i, j), and one
 * nonspacing mark twice in a row, drawn over itself. The skeleton keeps
 * marks, so such a name would pass for its plain twin. Checked as typed
 * (decomposed), not on the key: İ lower-cases to i + U+0307, yet shows a
 * capital I with a dot, a letter of its own.
 */
function markProblem(decomposed: string): string | undefined {
  let base = '';
  let previous = '';
  for (const ch of decomposed) {
    if (!/\p{Mn}/u.test(ch)) {
      base = ch;
      previous = '';
      continue;
    }
    if (ch === '\u0307' && DOTTED_BASE.test(base)) {
      return `Username contains ${codePoint(ch)}, a dot above an i or j (or a letter like them) where it shows nothing new, which is not allowed`;
    }
    if (ch === previous) {
      return `Username contains ${codePoint(ch)}, a combining mark repeated on one letter, which is not allowed`;
    }
    previous = ch;
  }
  return undefined;
}

/** The CONTEXTO rules of RFC 5892 Appendix A.3–A.9, for the character at `i`. */
function contextAllows(chars: string[], i: number): boolean {
  const before = chars[i - 1] ?? '';
  const after = chars[i + 1] ?? '';
  switch (chars[i]) {
    case '\u00B7': // MIDDLE DOT: only in Catalan l·l
      return before === 'l' && after === 'l';
    case '\u0375': // GREEK LOWER NUMERAL SIGN: before a Greek letter
      return /\p{Script=Greek}/u.test(after);
    case '\u05F3':
    case '\u05F4': // HEBREW PUNCTUATION GERESH/GERSHAYIM: after a Hebrew letter
      return /\p{Script=Hebrew}/u.test(before);
    case '\u30FB': // KATAKANA MIDDLE DOT: with Hiragana, Katakana or Han
      return chars.some((c) => /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u.test(c));
    default: {
      // Arabic-Indic digits: never mixed with Extended Arabic-Indic ones
      const part = chars.join('');
      return !(/[\u0660-\u0669]/.test(part) && /[\u06F0-\u06F9]/.test(part));
    }
  }
}

let bidiRanges: { from: number[]; to: number[]; cls: string[] } | undefined;

function bidiClass(cp: number): string {
  if (!bidiRanges) {
    bidiRanges = { from: [], to: [], cls: [] };
    for (const line of BIDI.trim().split('\n')) {
      const [from = '', to = '', cls = 'L'] = line.split(' ');
      bidiRanges.from.push(Number.parseInt(from, 16));
      bidiRanges.to.push(Number.parseInt(to, 16));
      bidiRanges.cls.push(cls);
    }
  }
  const { from, to, cls } = bidiRanges;
  let lo = 0;
  let hi = from.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < (from[mid] ?? 0)) hi = mid - 1;
    else if (cp > (to[mid] ?? 0)) lo = mid + 1;
    else return cls[mid] ?? 'L';
  }
  return 'L';
}

/**
 * RFC 8264 §5.2.6 / RFC 8265 §3.3.2 rule 5: the Bidi Rule of RFC 5893 §2, for
 * names with right-to-left characters; then every userpart must satisfy it.
 */
function passesBidiRule(parts: string[]): boolean {
  const classes = parts.map((part) => [...part].map((ch) => bidiClass(ch.codePointAt(0) ?? 0)));
  if (!classes.some((c) => c.some((x) => x === 'R' || x === 'AL' || x === 'AN'))) return true;
  return classes.every((c) => {
    const first = c[0];
    const end = c.filter((x) => x !== 'NSM').at(-1);
    if (first === 'R' || first === 'AL') {
      const allowed = ['R', 'AL', 'AN', 'EN', 'ES', 'CS', 'ET', 'ON', 'BN', 'NSM'];
      return (
        c.every((x) => allowed.includes(x)) &&
        ['R', 'AL', 'EN', 'AN'].includes(end ?? '') &&
        !(c.includes('EN') && c.includes('AN'))
      );
    }
    if (first === 'L') {
      const allowed = ['L', 'EN', 'ES', 'CS', 'ET', 'ON', 'BN', 'NSM'];
      return c.every((x) => allowed.includes(x)) && (end === 'L' || end === 'EN');
    }
    return false;
  });
}
