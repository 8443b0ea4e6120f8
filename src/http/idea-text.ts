/**
 * What an idea's text must be to be stored and counted honestly. Any language
 * and script is valid; the rules are Unicode properties, never a list of words
 * or characters picked by hand.
 */

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * A user-perceived character (grapheme cluster) counts when it shows something:
 * it holds a character that is not default-ignorable (zero-width spaces and
 * joiners, bidi and variation selectors, fillers), not a combining mark and not
 * a control — or it is white space, which separates words a person reads.
 * So "कि" (a letter and its vowel sign) is one character, a ZWJ emoji family
 * is one, and a run of zero-width spaces or lone combining marks is none.
 */
const SEEN = /\p{White_Space}|[^\p{Default_Ignorable_Code_Point}\p{M}\p{Cc}]/u;

/** The number of characters a person can see in the text once trimmed. */
export function visibleLength(text: string): number {
  let count = 0;
  for (const { segment } of graphemes.segment(text.trim())) if (SEEN.test(segment)) count++;
  return count;
}

/**
 * Why the text cannot be stored exactly as sent, or undefined. SQLite's text
 * ends at a NUL when read back, and UTF-8 has no encoding for a lone UTF-16
 * surrogate (it would come back as U+FFFD): either would make the stored idea
 * differ from the one submitted, and an identical retry look like another request.
 */
export function unstorableReason(text: string): string | undefined {
  const nul = text.indexOf('\u0000');
  if (nul !== -1)
    return `it contains a NUL character (U+0000) at position ${nul + 1}, which cannot be stored; remove it`;
  const surrogate = /\p{Cs}/u.exec(text);
  if (surrogate) {
    const unit = surrogate[0].charCodeAt(0).toString(16).toUpperCase();
    return `it contains an unpaired surrogate (U+${unit}) at position ${surrogate.index + 1}, which is not valid Unicode text and cannot be stored`;
  }
  return undefined;
}
