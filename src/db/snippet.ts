import { stemmer } from 'stemmer';
import { SPACELESS_CHAR } from './search-terms.js';

/**
 * Hit markers in a snippet on its way to snippetHtml(). Stored text may hold these
 * characters too (any string is valid input): every path that builds a snippet
 * removes them from the text first (plainText), so only real hits carry them.
 *
 * Every snippet is cut here, not by FTS5's snippet(): that function scores a window at
 * each hit against every other hit of the row, so its cost is the square of the hits
 * (an idea made of one word 1,250 times took 13 ms; a page of 100 such ideas held the
 * thread that serves every request for 1.3 s, and specs at the output cap for 20 s).
 * Here it costs one pass over the text searched.
 */
export const MARK_OPEN = '\u0002';
export const MARK_CLOSE = '\u0003';
const ELLIPSIS = '…';

const MARKS = /[\u0002\u0003]/g;
/** Stored text without the marker characters: they mean nothing on a page and must not turn into <mark>. */
const plainText = (text: string) => text.replace(MARKS, '');

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Characters of context kept before the chosen hit in a snippet. */
export const SNIPPET_LEAD = 30;
/** Characters in a snippet. */
export const SNIPPET_CHARS = 110;
/** Hits a snippet chooses its window among: the first ones, enough to find where the terms meet. */
const MAX_HITS = 64;

/** A hit in a text: [start, end) in UTF-16 units, and which term (phrase) it is of. */
interface Hit {
  start: number;
  end: number;
  term: number;
}

/** Token characters as unicode61 reads them (L*, N*, Co), with the marks remove_diacritics folds away. */
const TOKEN = /[\p{L}\p{N}\p{Co}\p{M}]+/gu;
const COMBINING = /\p{M}/gu;
const LATIN_WORD = /^[a-z]+$/;

/**
 * A token as ideas_fts indexes it (porter unicode61 remove_diacritics 2): case and accents
 * folded, then the English stem (SQLite's porter step leaves tokens under 3 or over 64
 * characters alone). So "Running", "runs" and "run" are one word, as they are to search.
 */
const isAscii = (text: string) => {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
};

function indexedForm(token: string): string {
  const folded = (isAscii(token) ? token : token.normalize('NFD').replace(COMBINING, '')).toLowerCase();
  return folded.length >= 3 && folded.length <= 64 && LATIN_WORD.test(folded) ? stemmer(folded) : folded;
}

/**
 * Finds the words of a query in texts as ideas_fts matched them: each query word is a
 * phrase of tokens (O'Brien is "o" then "brien"), compared by indexedForm(). An ASCII
 * token is folded and stemmed only when its first two characters, in lower case, begin
 * some phrase's first form (porter changes a word's end only): most of a text costs a scan.
 */
export function wordFinder(words: string[]) {
  const phrases = words
    .map((word) => [...word.matchAll(TOKEN)].map((m) => indexedForm(m[0])))
    .filter((phrase) => phrase.length > 0);
  const starts = new Set(phrases.map((phrase) => phrase[0].slice(0, 2)));
  const couldStart = (token: string) => !isAscii(token) || starts.has(token.slice(0, 2).toLowerCase());
  return {
    terms: phrases.length,
    /** The hits in text, in order, at most `limit`. */
    find(text: string, limit = MAX_HITS): Hit[] {
      const hits: Hit[] = [];
      const tokens = text.matchAll(TOKEN);
      // Tokens read ahead of the one a phrase starts at, for phrases of several.
      const ahead: Array<{ start: number; end: number; form: string }> = [];
      const next = () => {
        const m = tokens.next();
        if (m.done) return undefined;
        return { start: m.value.index, end: m.value.index + m.value[0].length, token: m.value[0] };
      };
      let token = next();
      while (token && hits.length < limit) {
        if (couldStart(token.token)) {
          const form = indexedForm(token.token);
          for (let term = 0; term < phrases.length; term++) {
            const phrase = phrases[term];
            if (phrase[0] !== form) continue;
            while (ahead.length < phrase.length - 1) {
              const more = next();
              if (!more) break;
              ahead.push({ start: more.start, end: more.end, form: indexedForm(more.token) });
            }
            if (phrase.slice(1).every((f, k) => ahead[k]?.form === f)) {
              hits.push({
                start: token.start,
                end: phrase.length > 1 ? ahead[phrase.length - 2].end : token.end,
                term,
              });
              break;
            }
          }
        }
        const read = ahead.shift();
        token = read ? { start: read.start, end: read.end, token: text.slice(read.start, read.end) } : next();
      }
      return hits;
    },
  };
}

/** Literal substrings, case-insensitive: the runs of spaceless scripts a search looked for. */
export function needleFinder(needles: string[]) {
  const list = needles.map(plainText).filter(Boolean);
  const pattern = list.length > 0 ? new RegExp(list.map(escapeRegExp).join('|'), 'giu') : undefined;
  const index = new Map(list.map((n, i) => [n.toLowerCase(), i]));
  return {
    terms: list.length,
    find(text: string, limit = MAX_HITS): Hit[] {
      if (!pattern) return [];
      const hits: Hit[] = [];
      for (const m of text.matchAll(pattern)) {
        hits.push({ start: m.index, end: m.index + m[0].length, term: index.get(m[0].toLowerCase()) ?? 0 });
        if (hits.length >= limit) break;
      }
      return hits;
    },
  };
}

export type Finder = ReturnType<typeof wordFinder>;

/** One finder for several: hits of all, in order; their terms numbered one after the other. */
export function allOf(finders: Finder[]): Finder {
  return {
    terms: finders.reduce((n, f) => n + f.terms, 0),
    find(text, limit = MAX_HITS) {
      let offset = 0;
      const hits: Hit[] = [];
      for (const finder of finders) {
        hits.push(...finder.find(text, limit).map((hit) => ({ ...hit, term: hit.term + offset })));
        offset += finder.terms;
      }
      return hits.sort((a, b) => a.start - b.start).slice(0, limit);
    },
  };
}

/** Moves an offset off the second half of a surrogate pair. */
const unitStart = (text: string, at: number) => {
  const unit = text.charCodeAt(at);
  return unit >= 0xdc00 && unit <= 0xdfff && at > 0 ? at - 1 : at;
};

/**
 * The snippet of a text for a search: SNIPPET_CHARS characters around the hits, the window
 * chosen where most different terms meet (the first such), every hit inside it marked.
 * `more` tells that the text goes on past its end (a text read in part). Undefined when
 * the text has no hit.
 */
export function snippetOf(text: string, finder: Finder, more = false): string | undefined {
  const plain = plainText(text);
  const hits = finder.find(plain);
  if (hits.length === 0) return undefined;
  let best = { from: 0, terms: 0 };
  for (let i = 0, j = 0; i < hits.length; i++) {
    const from = Math.max(0, hits[i].start - SNIPPET_LEAD);
    const to = from + SNIPPET_CHARS;
    j = Math.max(j, i);
    while (j + 1 < hits.length && hits[j + 1].end <= to) j++;
    const terms = new Set(hits.slice(i, j + 1).map((hit) => hit.term)).size;
    if (terms > best.terms) best = { from, terms };
    if (terms === finder.terms) break;
  }
  // Near either end, the whole way there; elsewhere never inside a word (runs of spaceless scripts are cut anywhere).
  let from = best.from <= SNAP ? 0 : best.from;
  let to = Math.min(plain.length, best.from + SNIPPET_CHARS);
  if (plain.length - to <= SNAP) to = plain.length;
  const inside = hits.filter((hit) => hit.start >= from && hit.end <= to);
  while (from > 0 && from < inside[0].start && insideWord(plain, from)) from++;
  while (to < plain.length && to > inside[inside.length - 1].end && insideWord(plain, to)) to--;
  from = unitStart(plain, from);
  to = unitStart(plain, to);
  return withEllipses(markAll(plain, hits, from, to), from > 0, to < plain.length || more);
}

/** Characters a snippet runs on rather than cut a few off at the start or the end of its text. */
const SNAP = 15;
const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;
const insideWord = (text: string, at: number) =>
  WORD_CHAR.test(text[at - 1]) && WORD_CHAR.test(text[at]) && !SPACELESS_CHAR.test(text[at]);

/** Every hit of the finder in a text marked: a text already cut around its hits. */
export function markHits(text: string, finder: Finder, cutBefore: boolean, cutAfter: boolean): string {
  const plain = plainText(text);
  return withEllipses(markAll(plain, finder.find(plain, Infinity), 0, plain.length), cutBefore, cutAfter);
}

function markAll(plain: string, hits: Hit[], from: number, to: number): string {
  let marked = '';
  let at = from;
  for (const hit of hits) {
    if (hit.start < at || hit.end > to) continue;
    marked += `${plain.slice(at, hit.start)}${MARK_OPEN}${plain.slice(hit.start, hit.end)}${MARK_CLOSE}`;
    at = hit.end;
  }
  return marked + plain.slice(at, to);
}

const withEllipses = (text: string, before: boolean, after: boolean) =>
  `${before ? ELLIPSIS : ''}${text.trim()}${after ? ELLIPSIS : ''}`;
