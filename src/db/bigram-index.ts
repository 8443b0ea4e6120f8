import { setImmediate } from 'node:timers/promises';
import type { Client, InStatement, Row } from '@libsql/client';
import { SPACELESS_CHAR, SPACELESS_RANGES } from './search-terms.js';

const SEPARATOR = 0;
const WORD = 1;
const SPACELESS = 2;
/** What unicode61 keeps as token characters by default, as ideas_fts tokenizes words. */
const WORD_CHAR = /[\p{L}\p{N}\p{Co}]/u;
/** The class of each code point of the Basic Multilingual Plane: one lookup per character. */
const CLASS_BMP = new Uint8Array(0x10000);
for (let cp = 0; cp < 0x10000; cp++)
  if ((cp < 0xd800 || cp > 0xdfff) && WORD_CHAR.test(String.fromCharCode(cp))) CLASS_BMP[cp] = WORD;
for (const [from, to] of SPACELESS_RANGES)
  for (let cp = from; cp <= Math.min(to, 0xffff); cp++) CLASS_BMP[cp] = SPACELESS;
const SPACELESS_ASTRAL = SPACELESS_RANGES.filter(([, to]) => to > 0xffff);

function classOf(cp: number): number {
  if (cp <= 0xffff) return CLASS_BMP[cp];
  if (SPACELESS_ASTRAL.some(([from, to]) => cp >= from && cp <= to)) return SPACELESS;
  return WORD_CHAR.test(String.fromCodePoint(cp)) ? WORD : SEPARATOR;
}

/**
 * The text ideas_fts_bigram indexes for a text, made in one pass: every character of
 * a spaceless script as a token, followed by the pair it starts when the next
 * character is of such a script too, and the words of other scripts as ideas_fts
 * sees them, everything else a space. "分配家務 for iOS" gives
 * "分 分配 配 配家 家 家務 務 for iOS", which the table's tokenizer (porter unicode61,
 * splitting at spaces only) reads as those tokens, the words stemmed and folded as in
 * ideas_fts. So one table answers a query that mixes words and runs (see
 * drizzle/0005_index_final_text.sql). `spaceless` tells whether the text has such a
 * character: only rows that do are in the table.
 */
export function bigramText(text: string): { text: string; spaceless: boolean } {
  // Written as UTF-16 code units into one buffer and decoded once: building millions of
  // small strings costs ten times more at 1,000,000 characters. A character yields at most
  // a space, itself, a space and the pair: 5 units for one of the BMP, 8 for a surrogate pair (4 per unit).
  const out = new Uint16Array(text.length * 5);
  let n = 0;
  let last = SEPARATOR;
  let spaceless = false;
  let cp = text.length > 0 ? text.codePointAt(0)! : 0;
  let kind = classOf(cp);
  for (let i = 0; i < text.length;) {
    const size = cp > 0xffff ? 2 : 1;
    const next = i + size < text.length ? text.codePointAt(i + size)! : -1;
    const nextKind = next >= 0 ? classOf(next) : SEPARATOR;
    if (kind === SPACELESS) {
      spaceless = true;
      if (n > 0 && out[n - 1] !== 0x20) out[n++] = 0x20;
      for (let k = 0; k < size; k++) out[n++] = text.charCodeAt(i + k);
      if (nextKind === SPACELESS) {
        out[n++] = 0x20;
        const nextSize = next > 0xffff ? 2 : 1;
        for (let k = 0; k < size + nextSize; k++) out[n++] = text.charCodeAt(i + k);
      }
    } else if (kind === WORD) {
      if (last === SPACELESS) out[n++] = 0x20;
      for (let k = 0; k < size; k++) out[n++] = text.charCodeAt(i + k);
    } else if (n > 0 && out[n - 1] !== 0x20) {
      out[n++] = 0x20;
    }
    last = kind;
    i += size;
    cp = next;
    kind = nextKind;
  }
  return { text: UTF16.decode(out.subarray(0, n)), spaceless };
}

const UTF16 = new TextDecoder('utf-16le');

/**
 * Lets waiting requests in. One setImmediate() from the poll phase (a request's or a write's
 * callback) runs in the same turn of the event loop, before any I/O; two are a poll phase apart
 * from whichever phase they start.
 */
async function yieldToEventLoop(): Promise<void> {
  await setImmediate();
  await setImmediate();
}

/** Runs of three characters or more are phrases of the tokens bigramText() writes for them: 燈塔看守 is "燈 燈塔 塔 塔看 看 看守 守". */
export const bigramPhrase = (run: string) => bigramText(run).text;

/**
 * The spaceless-script indexes hold each idea as pieces of at most PIECE_CHARS characters (plus
 * the overlap), so that no statement indexes more than that: one INSERT of a 1,000,000-character
 * Chinese spec held the thread that serves every request for a second. Piece k of idea id has
 * the rowid id * PIECES_PER_IDEA + k; search combines the pieces by idea (history-repository.ts).
 */
export const PIECE_CHARS = 8_192;
export const PIECES_PER_IDEA = 1024;
/**
 * Characters each piece repeats of the next one: at least the longest search (500 characters), so
 * every run or word a query can hold lies whole in some piece, as a phrase of trigrams or bigrams must.
 */
export const PIECE_OVERLAP = 512;
/** How far a piece's start moves back, or its end forward, to fall between two words rather than inside one. */
const WORD_SLACK = 64;
/** Status token of every piece of an idea that has more than one: search looks for terms spread over pieces only in those. */
export const SPLIT_TOKEN = 'split';

const isWordUnit = (text: string, i: number) => {
  const unit = text.charCodeAt(i);
  return (unit >= 0xdc00 && unit <= 0xdfff) || CLASS_BMP[unit] === WORD;
};

/** Where piece k starts: at k * PIECE_CHARS, moved back to the start of the word there (never into a surrogate pair). */
function pieceStart(text: string, k: number): number {
  let at = Math.min(k * PIECE_CHARS, text.length);
  if (at === 0 || at >= text.length) return at;
  for (let back = at; back > at - WORD_SLACK; back--) if (!isWordUnit(text, back - 1)) return back;
  if (text.charCodeAt(at) >= 0xdc00 && text.charCodeAt(at) <= 0xdfff) at--;
  return at;
}

/** Piece k of a text: from its start to the next piece's start, plus the overlap, to the end of a word. */
export function piece(text: string, k: number): string {
  const from = pieceStart(text, k);
  let to = Math.min(text.length, pieceStart(text, k + 1) + PIECE_OVERLAP);
  for (const limit = Math.min(text.length, to + WORD_SLACK); to < limit && isWordUnit(text, to);) to++;
  if (to < text.length && text.charCodeAt(to) >= 0xdc00 && text.charCodeAt(to) <= 0xdfff) to++;
  return text.slice(from, to);
}

export const pieceCount = (text: string) => Math.max(1, Math.ceil(text.length / PIECE_CHARS));

/** Characters of text indexed per write transaction (a long text is written in several: one piece, one index at a time). */
const BATCH_CHARS = PIECE_CHARS;
/** The same when no request waits (catchUpAll): fewer, larger transactions index a backlog several times faster. */
const BULK_CHARS = 200_000;
const BATCH_ROWS = 256;
const RETRY_MS = 2_000;

/**
 * Keeps the two indexes of spaceless scripts current: ideas_fts_bigram and ideas_fts_trigram.
 * The triggers of drizzle/0005 and 0007 list the rows whose indexed text changed in
 * ideas_bigram_pending; catchUp() indexes them from ideas_bigram_source (the text the
 * indexes see: a running job's spec is not final and is left out), in pieces (see
 * PIECE_CHARS), a few per write transaction, yielding to the event loop between
 * transactions so requests are served in between. A row that changes while it is being
 * indexed keeps a newer version in the pending table: the statements still to come for it
 * do nothing, and it is indexed again.
 */
/** Rows to index together, and how many characters of text they hold. */
type Batch = Array<{ id: number; version: number }> & { chars: number };

export function createBigramIndexer(client: Client, options: { onError?: (err: unknown) => void } = {}) {
  const wanted = new Set<number>();
  let dirty = false;
  let running: Promise<void> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  let bulk = false;
  const batchChars = () => (bulk ? BULK_CHARS : BATCH_CHARS);

  /** The next rows to index, the wanted ones first, up to batchChars() of text (always at least one row). */
  async function nextBatch(): Promise<Batch> {
    const first = [...wanted];
    wanted.clear();
    const { rows } = await client.execute({
      // Without wanted rows, the primary key's order: no sort of the whole table at each batch of a long catch-up.
      sql: `SELECT p.id, p.version, coalesce(length(s.user_input) + length(s.generated_spec), 0) AS size
            FROM ideas_bigram_pending p LEFT JOIN ideas_bigram_source s ON s.id = p.id
            ORDER BY ${first.length > 0 ? 'p.id IN (SELECT value FROM json_each(:first)) DESC, ' : ''}p.id LIMIT :rows`,
      args: { first: JSON.stringify(first), rows: BATCH_ROWS },
    });
    const batch: Batch = Object.assign([], { chars: 0 });
    for (const row of rows) {
      if (batch.length > 0 && batch.chars + Number(row.size) > batchChars()) break;
      batch.push({ id: Number(row.id), version: Number(row.version) });
      batch.chars += Number(row.size);
    }
    return batch;
  }

  /** The statements that index one row, in groups that are each written in one transaction (or with others). */
  function* rowStatements(row: Row): Generator<{ statements: InStatement[]; chars: number }> {
    const at = { id: Number(row.id), version: Number(row.version) };
    // The row may change or go between the read and the writes: each statement only acts while the
    // pending entry still has the version read (the delete trigger removes it with the row).
    const unchanged = 'EXISTS (SELECT 1 FROM ideas_bigram_pending WHERE id = :id AND version = :version)';
    const idea = String(row.user_input ?? '');
    const spec = String(row.generated_spec ?? '');
    const indexed = SPACELESS_CHAR.test(idea) || SPACELESS_CHAR.test(spec);
    const pieces = indexed ? Math.max(pieceCount(idea), pieceCount(spec)) : 0;
    const first = at.id * PIECES_PER_IDEA;
    const status = pieces > 1 ? `${String(row.status)} ${SPLIT_TOKEN}` : String(row.status);
    // A text of one piece is replaced in one transaction. A longer one piece by piece, so that search
    // keeps finding the row meanwhile; the pieces the previous text had beyond the new one's go first.
    const whole = pieces <= 1;
    const statements: InStatement[] = ['ideas_fts_bigram', 'ideas_fts_trigram'].map((table) => ({
      // The pieces it holds, as its table of document sizes lists them: a scan of the FTS5 table by rowid
      // opens every segment (0.3 ms a row at 10,000 ideas, a tenth of that this way).
      sql: `DELETE FROM ${table} WHERE rowid IN (SELECT id FROM ${table}_docsize WHERE id BETWEEN :from AND :to) AND ${unchanged}`,
      args: { ...at, from: first + (whole ? 0 : pieces), to: first + PIECES_PER_IDEA - 1 },
    }));
    let chars = 0;
    for (let k = 0; k < pieces; k++) {
      const ideaPiece = piece(idea, k);
      const specPiece = piece(spec, k);
      const args = { ...at, rowid: first + k, status };
      const texts = {
        ideas_fts_bigram: { idea: bigramText(ideaPiece).text, spec: bigramText(specPiece).text },
        // Two spaces after each column make every one- or two-character sequence the start of a trigram (drizzle/0002).
        ideas_fts_trigram: { idea: `${ideaPiece}  `, spec: `${specPiece}  ` },
      };
      for (const [table, text] of Object.entries(texts)) {
        if (!whole) {
          yield { statements: statements.splice(0), chars };
          chars = 0;
          statements.push({ sql: `DELETE FROM ${table} WHERE rowid = :rowid AND ${unchanged}`, args });
        }
        statements.push({
          sql: `INSERT INTO ${table} (rowid, user_input, generated_spec, status) SELECT :rowid, :idea, :spec, :status WHERE ${unchanged}`,
          args: { ...args, ...text },
        });
        chars += ideaPiece.length + specPiece.length;
      }
    }
    yield { statements, chars };
    yield {
      statements: [{ sql: 'DELETE FROM ideas_bigram_pending WHERE id = :id AND version = :version', args: at }],
      chars: 0,
    };
  }

  async function indexBatch(batch: Batch): Promise<void> {
    // Text too long for one transaction is read and written on turns of the event loop of its own, apart from the
    // write that called catchUp(); a short one is indexed at once, as part of that write.
    const long = batch.chars > batchChars();
    if (long) await yieldToEventLoop();
    // Version and text in one statement: both from the same moment.
    const { rows } = await client.execute({
      sql: `SELECT p.id, p.version, s.user_input, s.generated_spec, s.status
            FROM ideas_bigram_pending p LEFT JOIN ideas_bigram_source s ON s.id = p.id
            WHERE p.id IN (SELECT value FROM json_each(:ids))`,
      args: { ids: JSON.stringify(batch.map((b) => b.id)) },
    });
    if (long) await yieldToEventLoop();
    let statements: InStatement[] = [];
    let chars = 0;
    for (const row of rows) {
      for (const group of rowStatements(row)) {
        if (statements.length > 0 && chars + group.chars > batchChars()) {
          await client.batch(statements, 'write');
          await yieldToEventLoop();
          statements = [];
          chars = 0;
        }
        statements.push(...group.statements);
        chars += group.chars;
      }
    }
    if (statements.length > 0) await client.batch(statements, 'write');
  }

  async function drain(): Promise<void> {
    try {
      while (dirty && !closed) {
        dirty = false;
        for (let batch = await nextBatch(); batch.length > 0 && !closed; batch = await nextBatch()) {
          await indexBatch(batch);
          await yieldToEventLoop();
        }
      }
    } catch (err) {
      // The rows stay pending: indexed at the next write, or by the retry when nothing else is written.
      options.onError?.(err);
      if (!closed && !retry)
        retry = setTimeout(() => {
          retry = undefined;
          void catchUp();
        }, RETRY_MS).unref();
    } finally {
      running = undefined;
    }
  }

  /** Resolves once every row pending when it was called is indexed (`id` first, when given). Never rejects. */
  function catchUp(id?: number): Promise<void> {
    if (closed) return Promise.resolve();
    if (id !== undefined) wanted.add(id);
    dirty = true;
    running ??= drain();
    return running;
  }

  return {
    catchUp,
    /** catchUp() for every pending row in larger transactions, when no request waits: at start-up, in the seed script. */
    async catchUpAll(): Promise<void> {
      bulk = true;
      try {
        await catchUp();
      } finally {
        bulk = false;
      }
    },
    async close(): Promise<void> {
      closed = true;
      clearTimeout(retry);
      await running;
    },
  };
}

export type BigramIndexer = ReturnType<typeof createBigramIndexer>;
