import { ApiError } from '../errors.js';

/** Longest `q`, in characters, and most words in it: a search stays a handful of indexed conditions. */
export const MAX_QUERY_LENGTH = 200;
export const MAX_QUERY_WORDS = 8;

/**
 * Letters that are not an ASCII letter plus accents, so that NFKD alone leaves
 * them as they are: spelled in ASCII, as search engines do (Lucene's
 * ASCIIFoldingFilter, Elasticsearch), so `Straße` is found by `strasse`,
 * `Ørsted` by `orsted`, `Łódź` by `lodz`. Greek final sigma is a sigma.
 */
const LETTERS: Readonly<Record<string, string>> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  ı: 'i',
  þ: 'th',
  ħ: 'h',
  ŧ: 't',
  ς: 'σ',
};
const SPECIAL = new RegExp(`[${Object.keys(LETTERS).join('')}]`, 'gu');
const MARKS = /\p{M}/gu;
/** Apostrophes join what they separate (`Tolkien's` is found by `tolkiens` and by `tolkien`); format characters (soft hyphen, zero-width joiner) vanish. */
const JOINERS = /['`\u2018\u2019\u02bc\p{Cf}]/gu;
/**
 * Everything but letters, digits and symbols (`+`, `$`, emoji) separates words, except
 * `# % & * @ \ _`, kept inside words so that `C#`, `100%`, `AT&T` or `snake_case` can be
 * found as written. Controls, punctuation and spaces of any kind become one space.
 */
const SEPARATORS = /[^\p{L}\p{N}\p{S}#%&*@\\_]+/gu;

/**
 * The search form of a text: compatibility-decomposed (NFKD: `ﬁ` is `fi`,
 * `ｆｕｌｌ` is `full`, `²` is `2`), lower case, without accents or other
 * combining marks, the letters above in ASCII, and words separated by single
 * spaces. The same function folds what is stored and what is asked, in
 * JavaScript, so SQLite and PostgreSQL compare exactly the same strings.
 */
export function fold(text: string): string {
  return text
    .normalize('NFKD')
    .toLowerCase()
    .normalize('NFKD')
    .replace(MARKS, '')
    .replace(SPECIAL, (letter) => LETTERS[letter] ?? letter)
    .replace(JOINERS, '')
    .replace(SEPARATORS, ' ')
    .trim();
}

/** What books.search_text holds for a book: its title and author, folded. */
export function searchText(title: string, author: string): string {
  return fold(`${title} ${author}`);
}

/**
 * The distinct words of a query, folded like the stored text; none for an
 * empty query or one of spaces and punctuation only (no filter). A word that
 * is part of another one adds nothing (every text holding `hobbit` holds
 * `hob`) and is dropped.
 */
export function queryWords(q: string | undefined): string[] {
  if (q === undefined) return [];
  const words = fold(q).split(' ').filter(Boolean);
  if (words.length > MAX_QUERY_WORDS) {
    throw new ApiError(
      400,
      'VALIDATION_FAILED',
      `q has ${words.length} words; a search takes at most ${MAX_QUERY_WORDS}`,
    );
  }
  const distinct = [...new Set(words)];
  return distinct.filter((word) => !distinct.some((other) => other !== word && other.includes(word)));
}

/**
 * `%word%` for LIKE … ESCAPE '!': the word's own `%`, `_` and `!` match
 * themselves. Not a backslash: PostgreSQL would read '\' as an unterminated
 * string under the legacy standard_conforming_strings=off.
 */
export function containsPattern(word: string): string {
  return `%${word.replace(/[!%_]/g, '!$&')}%`;
}

/** Characters, not UTF-16 units: what a trigram index counts. */
export function characters(word: string): number {
  let n = 0;
  for (const _ of word) n++;
  return n;
}
