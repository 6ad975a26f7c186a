/**
 * The duplicate key of a title or author: "  The  Hobbit " and "the hobbit"
 * are the same book. NFC first so that composed and decomposed accents match.
 */
export function bookKey(text: string): string {
  return text.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
}
