/**
 * Turns whatever a person typed into search terms that FTS5 can only read as
 * text: every term becomes a double-quoted string (quotes doubled), so `AND (`,
 * `*`, `-`, `NEAR`, column filters and unbalanced quotes are just characters.
 */

/**
 * Scripts written without spaces between words, searched by substring through the
 * trigram and bigram indexes. drizzle/0002_search_index.sql indexes a row in the
 * trigram index when it contains one of these characters, and 0003 puts these
 * characters, and pairs of them, in the bigram index; the lists must stay the same. (No CJK
 * compatibility ideographs: NFC, which queries go through, maps them to unified ones,
 * and an editor normalising the migration file would corrupt the range.)
 */
export const SPACELESS_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x0e01, 0x0eff], // Thai, Lao
  [0x1000, 0x109f], // Myanmar
  [0x1100, 0x11ff], // Hangul Jamo
  [0x1780, 0x17ff], // Khmer
  [0x2e80, 0x2fdf], // CJK and Kangxi radicals
  [0x3005, 0x3007], // 々 〆 〇
  [0x3041, 0x30ff], // Hiragana, Katakana
  [0x3131, 0x318e], // Hangul compatibility Jamo
  [0x31f0, 0x31ff], // Katakana phonetic extensions
  [0x3400, 0x4dbf], // CJK extension A
  [0x4e00, 0x9fff], // CJK unified ideographs
  [0xac00, 0xd7af], // Hangul syllables
  [0xff66, 0xff9f], // half-width Katakana
  [0x20000, 0x323af], // CJK extensions B–H
];

/** The GLOB character class the migration uses, for the test that keeps both lists equal. */
export const SPACELESS_GLOB_CLASS = `[${SPACELESS_RANGES.map(([a, b]) => `${String.fromCodePoint(a)}-${String.fromCodePoint(b)}`).join('')}]`;

const SPACELESS_CLASS = `[${SPACELESS_RANGES.map(([a, b]) => `\\u{${a.toString(16)}}-\\u{${b.toString(16)}}`).join('')}]`;
const SPACELESS_RUN = new RegExp(`${SPACELESS_CLASS}+`, 'gu');
/** A character of a spaceless script: a text holding one is in the indexes of those scripts. */
export const SPACELESS_CHAR = new RegExp(SPACELESS_CLASS, 'u');
/** Control, format and surrogate code points: never meaningful in a query, and a NUL would cut FTS5's string short. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}]/gu;
/** What unicode61 keeps as token characters (L*, N*, Co); a word without any has no token to look for. */
const TOKEN_CHAR = /[\p{L}\p{N}\p{Co}]/u;

/** Enough for any real query; bounds the size of the FTS5 expression a request can build. */
export const MAX_SEARCH_TERMS = 12;

export interface SearchTerms {
  /** Searched as words in ideas_fts (stemmed, case- and accent-insensitive). */
  words: string[];
  /** Runs of a spaceless script, searched as substrings in ideas_fts_trigram. */
  runs: string[];
}

/** Splits a query into words and spaceless-script runs; every term must match (AND). Empty when nothing searchable is left. */
export function parseSearch(query: string): SearchTerms {
  const terms: SearchTerms = { words: [], runs: [] };
  const seen = new Set<string>();
  const add = (list: string[], term: string) => {
    const key = term.toLowerCase();
    if (seen.has(key) || seen.size >= MAX_SEARCH_TERMS) return;
    seen.add(key);
    list.push(term);
  };
  for (const chunk of query.normalize('NFC').replace(INVISIBLE, ' ').split(/\s+/u)) {
    for (const run of chunk.match(SPACELESS_RUN) ?? []) add(terms.runs, run);
    for (const word of chunk.replace(SPACELESS_RUN, ' ').split(' ')) {
      if (TOKEN_CHAR.test(word)) add(terms.words, word);
    }
  }
  return terms;
}

export const isEmptySearch = (terms: SearchTerms) => terms.words.length === 0 && terms.runs.length === 0;

/** An FTS5 string literal: the only syntax a user's text ever takes part in. */
export const ftsString = (text: string) => `"${text.replaceAll('"', '""')}"`;

/** Runs shorter than this have no trigram of their own: they are one token of the bigram index (drizzle/0003_short_runs_index.sql). */
export const TRIGRAM = 3;

/**
 * The MATCH expression: every term must match in the idea or the spec, and the
 * status column must hold the status when one is asked for. `columns: 'any'` leaves
 * out the column filter on the terms, for the indexes of spaceless scripts, where no
 * status has a token such a term could equal: the filter doubles what bm25's count
 * of a common term's documents costs (3 ms instead of 1.5 for 用户 at 100,000 ideas).
 */
export function matchExpression(terms: readonly string[], status: string | undefined, columns: 'text' | 'any'): string {
  const text = terms.map(ftsString).join(' AND ');
  const scoped = columns === 'text' ? `{user_input generated_spec} : (${text})` : `(${text})`;
  return status ? `${scoped} AND status : ${ftsString(status)}` : scoped;
}

/**
 * The MATCH expression of ideas_fts_bigram for a query that mixes words and runs:
 * the words in the idea or the spec (as in ideas_fts, never in the status), the runs
 * (tokens, or phrases of tokens for longer runs) anywhere, the status when asked.
 */
export function mixedMatchExpression(
  words: readonly string[],
  runs: readonly string[],
  status: string | undefined,
): string {
  const parts = [
    ...(words.length > 0 ? [`{user_input generated_spec} : (${words.map(ftsString).join(' AND ')})`] : []),
    ...runs.map(ftsString),
  ];
  const text = `(${parts.join(' AND ')})`;
  return status ? `${text} AND status : ${ftsString(status)}` : text;
}
