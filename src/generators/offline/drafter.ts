/**
 * The `offline` generator's drafter: a deterministic template filler for machines
 * with no model access. It only rearranges the idea's own words into the
 * template's sections and marks every open decision, and says so at the top.
 */
import { TEMPLATE_SECTIONS, type SectionId, type TemplateName } from '../templates.js';
import { LABELS, type Labels, type Lang, type Question } from './labels.js';
import { detectLanguage, FUNCTION_WORDS } from './language.js';

export const OFFLINE_LABEL = 'Offline draft — written without a language model.';
const TERM_STOPWORDS = new Set(Object.values(FUNCTION_WORDS).flat());

const CJK_OR_HANGUL = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
// Japanese nouns carry kanji or katakana; pure-hiragana words are mostly grammar.
const JAPANESE_NOUNISH = /[\p{Script=Han}\p{Script=Katakana}]/u;
// Korean glues particles onto nouns (산책을, 산책이); dropping one lets both count as 산책.
const KOREAN_PARTICLE = /(?:으로|에서|에게|은|는|이|가|을|를|에|의|로|와|과|도)$/u;

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * Shortens by whole grapheme clusters so emoji sequences and combining marks stay
 * intact, and at a space when one is near the end so words stay whole.
 */
function truncate(text: string, max: number): string {
  const clusters = Array.from(graphemes.segment(text), (s) => s.segment);
  if (clusters.length <= max) return text;
  const cut = clusters.slice(0, max - 1).join('');
  const space = cut.lastIndexOf(' ');
  return `${space > cut.length / 2 ? cut.slice(0, space) : cut}…`;
}

// ASCII sentence punctuation only counts before whitespace, so "v1.2", "e.g.x" and URLs survive.
const CLAUSE_BREAK = /(?:[.!?;:,](?=\s|$)|[。！？；：，、…\r\n؟،؛।])+/u;
const LEADING_NOISE = /^[\s>#*+\-–—•·"'“”‘’«»„「『]+/u;
const TRAILING_NOISE = /[\s.,;:!?…。，、；：！？"'“”‘’«»」』]+$/u;

/** The idea's clauses, in order, without list markers, quotes or duplicates. */
function clauses(idea: string): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const raw of idea.split(CLAUSE_BREAK)) {
    const clause = raw.replace(LEADING_NOISE, '').replace(TRAILING_NOISE, '');
    const key = clause.toLowerCase();
    if (clause && !seen.has(key)) {
      seen.add(key);
      result.push(clause);
    }
  }
  return result;
}

// Short words in spaced scripts are mostly grammar, while two CJK or Hangul characters often make a whole noun.
function isKeyTerm(word: string, lang: Lang): boolean {
  if (!/\p{L}/u.test(word) || TERM_STOPWORDS.has(word.toLowerCase())) return false;
  if (!CJK_OR_HANGUL.test(word)) return [...word].length >= 4;
  if (lang === 'ja' && !JAPANESE_NOUNISH.test(word)) return false;
  return [...word].length >= 2;
}

/** The idea's most frequent content words, first occurrence breaking ties; ICU segments scripts without spaces. */
function keyTerms(idea: string, lang: Lang, limit: number): string[] {
  const counts = new Map<string, { term: string; count: number; first: number }>();
  for (const { segment, isWordLike } of new Intl.Segmenter(lang, { granularity: 'word' }).segment(idea)) {
    if (!isWordLike) continue;
    const word = lang === 'ko' && [...segment].length > 2 ? segment.replace(KOREAN_PARTICLE, '') : segment;
    if (!isKeyTerm(word, lang)) continue;
    const key = word.toLowerCase();
    const entry = counts.get(key) ?? { term: word, count: 0, first: counts.size };
    entry.count++;
    counts.set(key, entry);
  }
  return [...counts.values()]
    .sort((a, b) => b.count - a.count || a.first - b.first)
    .slice(0, limit)
    .map((e) => e.term);
}

/** Backslash-escapes what Markdown would otherwise read as formatting or raw HTML. */
function escapeInline(text: string): string {
  return text.replace(/[\\`*_[\]<>#|~]/g, '\\$&');
}

/** A code fence longer than any backtick run in the text, so the text cannot close it. */
function fence(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  return '`'.repeat(Math.max(3, longestRun + 1));
}

const LIMITS: Readonly<
  Record<TemplateName, { goals: number; scenarios: number; requirements: number; terms: number; nfr: number }>
> = {
  lean: { goals: 2, scenarios: 1, requirements: 3, terms: 3, nfr: 3 },
  standard: { goals: 3, scenarios: 3, requirements: 6, terms: 5, nfr: 5 },
  technical: { goals: 3, scenarios: 2, requirements: 8, terms: 6, nfr: 5 },
};

const TITLE_GRAPHEMES = 60;
const PHRASE_GRAPHEMES = 100;

interface Draft {
  idea: string;
  labels: Labels;
  limits: (typeof LIMITS)[TemplateName];
  title: string;
  /** Clauses after the title clause (all of them when there is only one), escaped for Markdown. */
  details: string[];
  goals: string[];
  terms: string[];
  /** Questions asked so far, in order; Open Questions lists them. */
  asked: Set<string>;
}

function createDraft(idea: string, template: TemplateName): Draft {
  const lang = detectLanguage(idea);
  const labels = LABELS[lang];
  const limits = LIMITS[template];
  const found = clauses(idea);
  const phrases = found.map((c) => escapeInline(truncate(c, PHRASE_GRAPHEMES)));
  return {
    idea,
    labels,
    limits,
    title: found.length > 0 ? escapeInline(truncate(found[0], TITLE_GRAPHEMES)) : labels.untitled,
    details: phrases.length > 1 ? phrases.slice(1) : phrases,
    goals: phrases.slice(0, limits.goals),
    terms: keyTerms(idea, lang, limits.terms).map(escapeInline),
    asked: new Set(),
  };
}

function marker(question: string): string {
  return `[NEEDS CLARIFICATION: ${question}]`;
}

function ask(draft: Draft, question: Question): string {
  const text = draft.labels.ask[question];
  draft.asked.add(text);
  return marker(text);
}

const id = (prefix: string, n: number) => `${prefix}-${String(n).padStart(3, '0')}`;
const bullets = (items: readonly string[]) => items.map((item) => `- ${item}`).join('\n');

function labelled(draft: Draft, label: string, text: string): string {
  return `**${label}**${draft.labels.colon}${text}`;
}

function numbered(draft: Draft, prefix: string, items: readonly string[]): string {
  return bullets(items.map((item, i) => labelled(draft, id(prefix, i + 1), item)));
}

function overview(d: Draft): string {
  const f = fence(d.idea);
  return `**${d.labels.ideaLead}**\n\n${f}\n${d.idea}\n${f}\n\n${d.labels.summary}`;
}

function goals(d: Draft): string {
  const L = d.labels;
  return bullets([...d.goals.map((g) => labelled(d, L.goal, g)), labelled(d, L.nonGoal, ask(d, 'scope'))]);
}

function scenario(d: Draft, phrase: string, n: number): string {
  const L = d.labels;
  const criterion = `**${L.given}** ${L.givenText}${L.comma}**${L.when}** ${L.whenText(phrase)}${L.comma}**${L.then}** ${L.thenText} ${ask(d, 'outcome')}${L.period}`;
  return `### ${L.scenario} ${n} (P${n})\n\n- ${criterion}`;
}

function users(d: Draft): string {
  const L = d.labels;
  const people = `- ${labelled(d, L.primaryUsers, ask(d, 'users'))}`;
  const scenarios = d.details.slice(0, d.limits.scenarios).map((p, i) => scenario(d, p, i + 1));
  const edges = `- ${labelled(d, L.edgeCases, ask(d, 'edge'))}`;
  return [people, ...scenarios, edges].join('\n\n');
}

function functional(d: Draft): string {
  const L = d.labels;
  const fromIdea = d.details.slice(0, d.limits.requirements).map(L.must);
  return numbered(d, 'FR', [...fromIdea, L.mustAuth(ask(d, 'auth')), L.mustRetain(ask(d, 'retention'))]);
}

function nonFunctional(d: Draft): string {
  return numbered(d, 'NFR', [...d.labels.nfr.slice(0, d.limits.nfr), ask(d, 'scale')]);
}

function entities(d: Draft): string {
  if (d.terms.length === 0) return `- ${ask(d, 'entities')}`;
  return bullets(d.terms.map((term) => labelled(d, term, d.labels.entityText)));
}

function dataModel(d: Draft): string {
  if (d.terms.length === 0) return `- ${ask(d, 'entities')}`;
  return bullets(
    d.terms.map((term) => labelled(d, term, `\`id\`, \`created_at\`, \`updated_at\`, ${d.labels.fields}`)),
  );
}

function architecture(d: Draft): string {
  return bullets([...d.labels.architecture, ask(d, 'integrations')]);
}

function api(d: Draft): string {
  return bullets(d.labels.api);
}

function milestones(d: Draft): string {
  return d.labels.milestones.map((m, i) => `${i + 1}. ${m}`).join('\n');
}

function success(d: Draft): string {
  return numbered(d, 'SC', [...d.labels.success, ask(d, 'metric')]);
}

function risks(d: Draft): string {
  return bullets(d.labels.risks);
}

function openQuestions(d: Draft): string {
  return bullets([...d.asked].map(marker));
}

const SECTION_BODIES: Readonly<Record<SectionId, (draft: Draft) => string>> = {
  overview,
  goals,
  users,
  functional,
  nonFunctional,
  entities,
  dataModel,
  architecture,
  api,
  milestones,
  success,
  risks,
  openQuestions,
};

/**
 * A deterministic Markdown spec for `template`, built from the idea's own words
 * with headings in the idea's language where a dictionary exists.
 */
export function draftOffline(idea: string, template: TemplateName): string {
  const draft = createDraft(idea, template);
  const header = `> **${OFFLINE_LABEL}** ${draft.labels.note}\n\n# ${draft.title}`;
  // Sections render in template order, so Open Questions (always last) sees every question asked above it.
  const sections = TEMPLATE_SECTIONS[template].map(
    (section) => `## ${draft.labels.sections[section]}\n\n${SECTION_BODIES[section](draft)}`,
  );
  return `${[header, ...sections].join('\n\n')}\n`;
}

// Preferred cut points, best first: before a heading, after a blank line, after a line, after a space.
const BREAKS = [
  { text: '\n#', keep: 1 },
  { text: '\n\n', keep: 2 },
  { text: '\n', keep: 1 },
  { text: ' ', keep: 1 },
] as const;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function chunkEnd(text: string, start: number, maxChunk: number): number {
  if (text.length - start <= maxChunk) return text.length;
  const window = text.slice(start, start + maxChunk);
  for (const { text: sep, keep } of BREAKS) {
    const at = window.lastIndexOf(sep);
    if (at >= 0) return start + at + keep;
  }
  const end = start + maxChunk;
  return isHighSurrogate(text.charCodeAt(end - 1)) ? end - 1 : end;
}

/**
 * Splits text into chunks of at most `maxChunk` UTF-16 units, cutting at section
 * and paragraph boundaries where possible and never between a surrogate pair;
 * the chunks concatenate back to the input exactly.
 */
export function splitIntoChunks(markdown: string, maxChunk = 400): string[] {
  // Below 2 a chunk could not hold a whole surrogate pair.
  if (!Number.isInteger(maxChunk) || maxChunk < 2)
    throw new RangeError(`maxChunk must be an integer >= 2, got ${maxChunk}`);
  const chunks: string[] = [];
  for (let start = 0; start < markdown.length;) {
    const end = chunkEnd(markdown, start, maxChunk);
    chunks.push(markdown.slice(start, end));
    start = end;
  }
  return chunks;
}
