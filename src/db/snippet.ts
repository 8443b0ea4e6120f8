/** Hit markers, as FTS5's snippet() is asked to write them: control characters never found in stored text that matters. */
export const MARK_OPEN = '\u0002';
export const MARK_CLOSE = '\u0003';
export const ELLIPSIS = '…';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A snippet for hits the trigram index found: the text around the first hit
 * (cut by the query), with every occurrence of every needle marked. The trigram
 * index is contentless, so FTS5 cannot cut this one itself.
 */
export function markNeedles(text: string, needles: string[], cutBefore: boolean, cutAfter: boolean): string {
  const pattern = needles.filter(Boolean).map(escapeRegExp).join('|');
  const marked = pattern ? text.replace(new RegExp(pattern, 'giu'), (hit) => `${MARK_OPEN}${hit}${MARK_CLOSE}`) : text;
  return `${cutBefore ? ELLIPSIS : ''}${marked.trim()}${cutAfter ? ELLIPSIS : ''}`;
}

export const hasMark = (snippet: string | null | undefined): snippet is string => typeof snippet === 'string' && snippet.includes(MARK_OPEN);
