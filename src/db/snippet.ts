import { randomBytes } from 'node:crypto';

/**
 * Hit markers in a snippet on its way to snippetHtml(). Stored text may hold these
 * characters too (any string is valid input): every path that builds a snippet
 * removes them from the text first (plainText), so only real hits carry them.
 */
export const MARK_OPEN = '\u0002';
export const MARK_CLOSE = '\u0003';
export const ELLIPSIS = '…';

const MARKS = /[\u0002\u0003]/g;
/** Stored text without the marker characters: they mean nothing on a page and must not turn into <mark>. */
export const plainText = (text: string) => text.replace(MARKS, '');

/**
 * Markers for one call of FTS5's snippet(), which cuts the stored text itself and
 * cannot be asked to drop characters: random per query, so no stored text holds them
 * (2^-72). fromFts() removes the marker characters the text held and turns these
 * into MARK_OPEN and MARK_CLOSE.
 */
export function ftsMarkers() {
  const nonce = randomBytes(9).toString('base64url');
  const open = `\u0002${nonce}\u0003`;
  const close = `\u0003${nonce}\u0002`;
  return {
    open,
    close,
    fromFts(snippet: string | null): string | null {
      if (snippet === null) return null;
      return snippet
        .split(open)
        .map((part) => part.split(close).map(plainText).join(MARK_CLOSE))
        .join(MARK_OPEN);
    },
  };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A snippet for hits the trigram index found: the text around the first hit
 * (cut by the query), with every occurrence of every needle marked. The trigram
 * index is contentless, so FTS5 cannot cut this one itself.
 */
export function markNeedles(text: string, needles: string[], cutBefore: boolean, cutAfter: boolean): string {
  const pattern = needles.map(plainText).filter(Boolean).map(escapeRegExp).join('|');
  const plain = plainText(text);
  const marked = pattern
    ? plain.replace(new RegExp(pattern, 'giu'), (hit) => `${MARK_OPEN}${hit}${MARK_CLOSE}`)
    : plain;
  return `${cutBefore ? ELLIPSIS : ''}${marked.trim()}${cutAfter ? ELLIPSIS : ''}`;
}

export const hasMark = (snippet: string | null | undefined): snippet is string =>
  typeof snippet === 'string' && snippet.includes(MARK_OPEN);
