import type { Client, InArgs, Row } from '@libsql/client';
import { DAY_MS, isoTime } from '../time.js';
import type { IdeaStatus } from './schema.js';
import { bigramPhrase, PIECES_PER_IDEA, SPLIT_TOKEN } from './bigram-index.js';
import {
  isEmptySearch,
  matchExpression,
  mixedMatchExpression,
  parseSearch,
  ftsString,
  TRIGRAM,
  type SearchTerms,
} from './search-terms.js';
import {
  allOf,
  markHits,
  needleFinder,
  snippetOf,
  wordFinder,
  SNIPPET_CHARS,
  SNIPPET_LEAD,
  type Finder,
} from './snippet.js';

/** Characters of the idea and of the spec's beginning a list item carries: enough for a preview, never the spec. */
export const IDEA_CHARS = 200;
export const SPEC_HEAD_CHARS = 400;
/** A full window whose matches are more than this share of the newest ideas is listed by recency (see search()). */
const DENSE = 0.5;
/**
 * Characters of the spec a word search looks for its snippet in (then the idea): a hit found
 * by stem cannot be looked up in SQL, and a spec can be 1,000,000 characters long.
 */
const SPEC_SCAN_CHARS = 20_000;

export interface SummaryRow {
  id: number;
  jobId: string;
  /** The idea, cut to IDEA_CHARS + 1 characters (one more than shown, so a cut can be seen). */
  idea: string;
  specHead: string;
  status: IdeaStatus;
  template: string;
  generator: string;
  model: string | null;
  attempts: number;
  errorCode: string | null;
  errorMessage: string | null;
  processingTimeMs: number | null;
  outputLength: number;
  createdAt: number;
  updatedAt: number;
  completedAt: number | null;
  /** The hit in context, hits between MARK_OPEN and MARK_CLOSE; search results only. */
  snippet?: string;
}

export interface ListPage {
  rows: SummaryRow[];
  /** Ideas the listing covers (for a search: the ranked candidates). */
  total: number;
}

export interface SnapshotPage extends ListPage {
  /** The id of the newest idea the listing can show; later pages pass it back to stay on the same set. */
  asOf: number;
}

export interface SearchPage extends SnapshotPage {
  /** More ideas match than the rank window holds: the oldest matches were not ranked. */
  capped: boolean;
  /** Ranked by relevance (bm25) or, when the query is in most of the newest ideas, by recency only. */
  ranked: boolean;
}

export interface HistoryStats {
  byStatus: Record<IdeaStatus, number>;
  total: number;
  processing: { count: number; averageMs: number | null; p50Ms: number | null; p95Ms: number | null };
  perDay: Array<{ date: string; count: number }>;
}

/**
 * A list item's columns as one JSON object with the keys of SummaryRow, built by
 * SQLite. @libsql/client turns every column of every row into a property with
 * Object.defineProperty: for 20 rows of 16 columns that cost more than running the
 * query (page 1 at 100,000 ideas: 0.34 ms as columns, 0.20 ms as one JSON column).
 */
const SUMMARY = `json_object('id', i.id, 'jobId', i.job_id, 'idea', substr(i.user_input, 1, ${IDEA_CHARS + 1}), 'specHead', substr(i.generated_spec, 1, ${SPEC_HEAD_CHARS}),
  'status', i.status, 'template', i.template, 'generator', i.generator, 'model', i.model, 'attempts', i.attempts,
  'errorCode', i.error_code, 'errorMessage', i.error_message, 'processingTimeMs', i.processing_time_ms, 'outputLength', i.output_length,
  'createdAt', i.created_at, 'updatedAt', i.updated_at, 'completedAt', i.completed_at) AS summary`;

// Newest first; id breaks ties between ideas created in the same millisecond. The
// unary + keeps SQLite from reading `id <= ?` through the primary key, which would
// trade the ordered index for a sort of every row.
const NEWEST_FIRST = 'ORDER BY i.created_at DESC, i.id DESC';

const toSummary = (row: Row): SummaryRow => JSON.parse(String(row.summary)) as SummaryRow;

/**
 * History queries: pages, keyset pages, full-text search and stats, each built
 * to cost about the same at 100 ideas and at 100,000 (see the README's History
 * section for the measurements).
 */
export function createHistoryRepository(client: Client, options: { rankWindow: number }) {
  const statusClause = (status: IdeaStatus | undefined, prefix: string) =>
    status ? `${prefix} i.status = :status` : '';

  /** The newest id (the snapshot a walk through the pages stays on) and how many ideas the snapshot holds. */
  async function snapshot(
    status: IdeaStatus | undefined,
    asOf: number | undefined,
  ): Promise<{ asOf: number; total: number }> {
    const { rows } = await client.execute({
      sql: `WITH snap(as_of) AS (SELECT coalesce(:asOf, (SELECT max(id) FROM ideas), 0))
        SELECT as_of,
          (SELECT coalesce(sum(ideas), 0) FROM idea_status_counts ${status ? 'WHERE status = :status' : ''})
          - (SELECT count(*) FROM ideas i WHERE i.id > as_of ${statusClause(status, 'AND')}) AS total
        FROM snap`,
      args: { asOf: asOf ?? null, ...(status ? { status } : {}) },
    });
    return { asOf: Number(rows[0].as_of), total: Math.max(0, Number(rows[0].total)) };
  }

  /**
   * How many ideas with ids in [from, to] the index holds: the ideas the window's
   * matches are a share of. Every idea is in ideas_fts; the trigram and bigram
   * indexes hold only those with a spaceless script, counted in FTS5's own table of
   * document sizes (one row per indexed idea; a count over the FTS5 table itself
   * reads every document, ~15 ms for 1,200 of them).
   */
  async function indexedBetween(
    table: 'ideas_fts' | 'ideas_fts_trigram' | 'ideas_fts_bigram',
    from: number,
    to: number,
  ): Promise<number> {
    if (table === 'ideas_fts') return to - from + 1;
    // Those two hold ideas in pieces: piece 0 stands for its idea.
    const { rows } = await client.execute({
      sql: `SELECT count(*) AS n FROM ${table}_docsize WHERE id BETWEEN :from AND :to AND id % ${PIECES_PER_IDEA} = 0`,
      args: { from: from * PIECES_PER_IDEA, to: to * PIECES_PER_IDEA + PIECES_PER_IDEA - 1 },
    });
    return Math.max(1, Number(rows[0].n));
  }

  async function newestId(): Promise<number> {
    const { rows } = await client.execute('SELECT coalesce(max(id), 0) AS id FROM ideas');
    return Number(rows[0].id);
  }

  /**
   * Snippet columns for the final SELECT. Words: the idea and the spec's first SPEC_SCAN_CHARS
   * characters, searched by stem in snippetOf(). Runs: a window around the first run in the
   * spec, found by instr() (one pass in C, however long the spec).
   */
  function snippetColumns(terms: SearchTerms): string {
    if (terms.runs.length === 0) {
      return `, i.user_input AS idea_text, substr(i.generated_spec, 1, ${SPEC_SCAN_CHARS + 1}) AS spec_scan`;
    }
    // One character more than a snippet tells whether the spec goes on after it, without counting a long spec's characters.
    return `, instr(i.generated_spec, :needle) AS spec_pos,
      substr(i.generated_spec, max(1, instr(i.generated_spec, :needle) - ${SNIPPET_LEAD}), ${SNIPPET_CHARS + 1}) AS spec_window`;
  }

  function snippet(row: Row, summary: SummaryRow, terms: SearchTerms, finder: Finder): string {
    const ideaHead = () => markHits(summary.idea.slice(0, IDEA_CHARS), finder, false, summary.idea.length > IDEA_CHARS);
    if (terms.runs.length === 0) {
      // A running job's text is not in the index yet (drizzle/0005): the row was found by its idea.
      const spec = summary.status === 'processing' ? '' : String(row.spec_scan);
      return (
        snippetOf(spec.slice(0, SPEC_SCAN_CHARS), finder, spec.length > SPEC_SCAN_CHARS) ??
        snippetOf(String(row.idea_text), finder) ??
        ideaHead()
      );
    }
    const pos = Number(row.spec_pos);
    if (pos > 0) {
      const from = Math.max(1, pos - SNIPPET_LEAD);
      const window = [...String(row.spec_window)]; // characters, as substr() counts them
      return markHits(window.slice(0, SNIPPET_CHARS).join(''), finder, from > 1, window.length > SNIPPET_CHARS);
    }
    return ideaHead();
  }

  interface Found {
    /** The page's ids and scores, as SQL. */
    page: string;
    /** The page joined to its ideas. */
    source: string;
    args: Record<string, string | number>;
    total: number;
    capped: boolean;
    ranked: boolean;
  }

  /** Whether a full window is too dense to rank (see search()). */
  async function rankable(table: Parameters<typeof indexedBetween>[0], total: number, oldest: number, asOf: number) {
    const capped = total >= options.rankWindow;
    return { capped, ranked: !(capped && total / (await indexedBetween(table, oldest, asOf)) > DENSE) };
  }

  /** Words: ideas_fts, which holds each idea as one row (rowid = id). */
  async function wordSearch(match: string, asOf: number): Promise<Found | undefined> {
    const where = 'ideas_fts MATCH :match AND ideas_fts.rowid <= :asOf';
    const window = await client.execute({
      sql: `SELECT count(*) AS n, min(id) AS oldest FROM (SELECT rowid AS id FROM ideas_fts WHERE ${where} ORDER BY rowid DESC LIMIT :window)`,
      args: { match, asOf, window: options.rankWindow },
    });
    const total = Number(window.rows[0].n);
    if (total === 0) return undefined;
    const oldest = Number(window.rows[0].oldest);
    const { capped, ranked } = await rankable('ideas_fts', total, oldest, asOf);
    const page = ranked
      ? `SELECT id, score FROM (SELECT rowid AS id, bm25(ideas_fts, 4.0, 1.0, 0.0) AS score FROM ideas_fts WHERE ${where} AND rowid >= :oldest)
         ORDER BY score, id DESC LIMIT :limit OFFSET :offset`
      : `SELECT rowid AS id, 0.0 AS score FROM ideas_fts WHERE ${where} ORDER BY rowid DESC LIMIT :limit OFFSET :offset`;
    return {
      page,
      source: 'page p CROSS JOIN ideas i ON i.id = p.id',
      args: { match, asOf, oldest },
      total,
      capped,
      ranked,
    };
  }

  /**
   * Runs of spaceless scripts: ideas_fts_trigram or ideas_fts_bigram, which hold each idea in
   * pieces (rowid = id * PIECES_PER_IDEA + piece, see bigram-index.ts). An idea matches when one
   * piece holds every term, or, for an idea of several pieces (status token SPLIT_TOKEN), when
   * each term is in one of them: those are looked up term by term among such pieces only, and
   * scored as the sum of each term's best piece (bm25 adds up the terms of a query the same way).
   * An idea found in several pieces counts once, with its best score.
   */
  async function piecesSearch(
    table: 'ideas_fts_trigram' | 'ideas_fts_bigram',
    match: string,
    each: string[],
    asOf: number,
  ): Promise<Found | undefined> {
    const idOf = `${table}.rowid / ${PIECES_PER_IDEA}`;
    const score = `bm25(${table}, 4.0, 1.0, 0.0)`;
    const hi = asOf * PIECES_PER_IDEA + PIECES_PER_IDEA - 1;
    let split = '[]';
    if (each.length > 1) {
      const spread = await client.execute({
        sql: `SELECT json_group_array(json_array(id, score)) AS split FROM (
                SELECT id, sum(best) AS score FROM (
                  SELECT id, term, min(score) AS best FROM (${each
                    .map(
                      (_, n) =>
                        `SELECT ${idOf} AS id, ${n} AS term, ${score} AS score FROM ${table} WHERE ${table} MATCH :each${n} AND rowid <= :hi`,
                    )
                    .join(' UNION ALL ')})
                  GROUP BY id, term)
                GROUP BY id HAVING count(*) = ${each.length})`,
        args: {
          hi,
          ...Object.fromEntries(each.map((e, n) => [`each${n}`, `${e} AND status : ${ftsString(SPLIT_TOKEN)}`])),
        },
      });
      split = String(spread.rows[0].split);
    }
    const where = `${table} MATCH :match AND ${table}.rowid BETWEEN :lo AND :hi`;
    const spreadIds = 'SELECT value ->> 0 AS id FROM json_each(:split)';
    const newest = `SELECT DISTINCT ${idOf} AS id FROM ${table} WHERE ${where} ORDER BY ${table}.rowid DESC`;
    const window = await client.execute({
      sql: `SELECT count(*) AS n, min(id) AS oldest FROM (SELECT id FROM (${newest} LIMIT :window) UNION ${spreadIds} ORDER BY id DESC LIMIT :window)`,
      args: { match, lo: 0, hi, split, window: options.rankWindow },
    });
    const total = Number(window.rows[0].n);
    if (total === 0) return undefined;
    const oldest = Number(window.rows[0].oldest);
    const { capped, ranked } = await rankable(table, total, oldest, asOf);
    const page = ranked
      ? `SELECT id, min(score) AS score FROM (
           SELECT ${idOf} AS id, ${score} AS score FROM ${table} WHERE ${where}
           UNION ALL SELECT value ->> 0, value ->> 1 FROM json_each(:split) WHERE value ->> 0 >= :oldest)
         GROUP BY id ORDER BY score, id DESC LIMIT :limit OFFSET :offset`
      : `SELECT id, 0.0 AS score FROM (SELECT id FROM (${newest} LIMIT :limit + :offset) UNION ${spreadIds})
         ORDER BY id DESC LIMIT :limit OFFSET :offset`;
    return {
      page,
      source: 'page p CROSS JOIN ideas i ON i.id = p.id',
      args: { match, lo: ranked ? oldest * PIECES_PER_IDEA : 0, hi, split, oldest },
      total,
      capped,
      ranked,
    };
  }

  return {
    /** Page `offset / limit` of the ideas up to `asOf`, newest first. */
    async page(query: { status?: IdeaStatus; limit: number; offset: number; asOf?: number }): Promise<SnapshotPage> {
      const snap = await snapshot(query.status, query.asOf);
      const { rows } = await client.execute({
        sql: `SELECT ${SUMMARY} FROM ideas i WHERE +i.id <= :asOf ${statusClause(query.status, 'AND')} ${NEWEST_FIRST} LIMIT :limit OFFSET :offset`,
        args: {
          asOf: snap.asOf,
          limit: query.limit,
          offset: query.offset,
          ...(query.status ? { status: query.status } : {}),
        },
      });
      return { rows: rows.map(toSummary), ...snap };
    },

    /** The ideas strictly older than (createdAt, id), newest first: a seek, whatever the depth. One row more than asked tells whether more follow. */
    async after(query: {
      status?: IdeaStatus;
      limit: number;
      createdAt: number;
      id: number;
    }): Promise<ListPage & { hasMore: boolean }> {
      const totalSql = `SELECT coalesce(sum(ideas), 0) FROM idea_status_counts ${query.status ? 'WHERE status = :status' : ''}`;
      const args: InArgs = {
        createdAt: query.createdAt,
        id: query.id,
        limit: query.limit + 1,
        ...(query.status ? { status: query.status } : {}),
      };
      const { rows } = await client.execute({
        sql: `SELECT ${SUMMARY}, (${totalSql}) AS total FROM ideas i WHERE (i.created_at, i.id) < (:createdAt, :id) ${statusClause(query.status, 'AND')} ${NEWEST_FIRST} LIMIT :limit`,
        args,
      });
      // Past the last idea there is no row to carry the total.
      const total =
        rows.length > 0
          ? Number(rows[0].total)
          : Number(
              (
                await client.execute({
                  sql: `SELECT (${totalSql}) AS total`,
                  args: query.status ? { status: query.status } : {},
                })
              ).rows[0].total,
            );
      return { rows: rows.slice(0, query.limit).map(toSummary), total, hasMore: rows.length > query.limit };
    },

    /**
     * Full-text search over the `rankWindow` newest matches. FTS5 walks its
     * doclists newest first and stops at the window, so finding them costs the
     * same at any table size. They are ranked by bm25 (the idea weighs 4, the spec
     * 1) unless the window is full and dense (the query is in more than half of
     * the newest ideas the index holds: for the indexes of spaceless scripts, of the
     * newest ideas written in them): bm25 starts by counting every match in the table, ~100 ms
     * to rank all of a word found in almost every row at 100,000 ideas, and it
     * floors the weight of such a word to almost nothing; those are listed newest first.
     */
    async search(query: {
      text: string;
      status?: IdeaStatus;
      limit: number;
      offset: number;
      asOf?: number;
    }): Promise<SearchPage> {
      const terms = parseSearch(query.text);
      const asOf = query.asOf ?? (await newestId());
      const none: SearchPage = { rows: [], total: 0, asOf, capped: false, ranked: true };
      if (isEmptySearch(terms)) return none;

      // Words go to the word index, runs of three characters or more to the trigram index, shorter runs to the
      // bigram index; a query that needs more than one of them goes to the bigram index alone, which holds the
      // words of its rows too: one MATCH, never a join of two indexes (seconds at 100,000 ideas).
      const longRuns = terms.runs.filter((run) => [...run].length >= TRIGRAM);
      const shortRuns = terms.runs.filter((run) => [...run].length < TRIGRAM);
      const kinds = [terms.words, longRuns, shortRuns].filter((list) => list.length > 0).length;
      const { table, match, each } =
        kinds > 1
          ? {
              table: 'ideas_fts_bigram' as const,
              match: mixedMatchExpression(terms.words, [...shortRuns, ...longRuns.map(bigramPhrase)], query.status),
              each: [
                ...terms.words.map((word) => mixedMatchExpression([word], [], query.status)),
                ...[...shortRuns, ...longRuns.map(bigramPhrase)].map((run) =>
                  mixedMatchExpression([], [run], query.status),
                ),
              ],
            }
          : (
              [
                ['ideas_fts', terms.words, 'text'],
                ['ideas_fts_trigram', longRuns, 'any'],
                ['ideas_fts_bigram', shortRuns, 'any'],
              ] as const
            )
              .filter(([, list]) => list.length > 0)
              .map(([table, list, columns]) => ({
                table,
                match: matchExpression(list, query.status, columns),
                each: list.map((term) => matchExpression([term], query.status, columns)),
              }))[0];
      const found =
        table === 'ideas_fts' ? await wordSearch(match, asOf) : await piecesSearch(table, match, each, asOf);
      if (!found) return none;
      const { page, source, args, total, capped, ranked } = found;
      const finder = allOf([needleFinder(terms.runs), wordFinder(terms.words)]);
      const { rows } = await client.execute({
        sql: `WITH page AS MATERIALIZED (${page}) SELECT ${SUMMARY}${snippetColumns(terms)} FROM ${source} ORDER BY p.score, p.id DESC`,
        args: {
          ...args,
          limit: query.limit,
          offset: query.offset,
          ...(terms.runs.length > 0 ? { needle: terms.runs[0] } : {}),
        },
      });
      return {
        rows: rows.map((row) => {
          const summary = toSummary(row);
          return { ...summary, snippet: snippet(row, summary, terms, finder) };
        }),
        total,
        asOf,
        capped,
        ranked,
      };
    },

    async stats(now = Date.now()): Promise<HistoryStats> {
      const counts = await client.execute(
        'SELECT status, ideas, processing_ms_total, processing_count FROM idea_status_counts',
      );
      const byStatus = { queued: 0, started: 0, processing: 0, completed: 0, failed: 0, cancelled: 0 } as Record<
        IdeaStatus,
        number
      >;
      let timed = { count: 0, totalMs: 0 };
      for (const row of counts.rows) {
        const status = row.status as IdeaStatus;
        if (status in byStatus) byStatus[status] = Number(row.ideas);
        if (status === 'completed')
          timed = { count: Number(row.processing_count), totalMs: Number(row.processing_ms_total) };
      }
      // Nearest-rank percentiles, read from the partial index of completed processing times.
      const percentile = (p: number) => ({
        sql: `SELECT processing_time_ms AS ms FROM ideas INDEXED BY ideas_completed_time_idx WHERE status = 'completed' AND processing_time_ms IS NOT NULL ORDER BY processing_time_ms LIMIT 1 OFFSET :k`,
        args: { k: Math.max(0, Math.ceil(p * timed.count) - 1) },
      });
      const today = Math.floor(now / DAY_MS) * DAY_MS;
      const start = today - 6 * DAY_MS;
      const [p50, p95, days] = await client.batch(
        [
          percentile(0.5),
          percentile(0.95),
          {
            sql: 'SELECT CAST((created_at - :start) / :day AS INTEGER) AS day, count(*) AS n FROM ideas WHERE created_at >= :start GROUP BY day',
            args: { start, day: DAY_MS },
          },
        ],
        'read',
      );
      const perDayCounts = new Map(days.rows.map((r) => [Number(r.day), Number(r.n)]));
      const ms = (rows: Row[]) => (timed.count > 0 && rows.length > 0 ? Number(rows[0].ms) : null);
      return {
        byStatus,
        total: Object.values(byStatus).reduce((a, b) => a + b, 0),
        processing: {
          count: timed.count,
          averageMs: timed.count > 0 ? Math.round(timed.totalMs / timed.count) : null,
          p50Ms: ms(p50.rows),
          p95Ms: ms(p95.rows),
        },
        perDay: Array.from({ length: 7 }, (_, d) => ({
          date: isoTime(start + d * DAY_MS).slice(0, 10),
          count: perDayCounts.get(d) ?? 0,
        })),
      };
    },
  };
}

export type HistoryRepository = ReturnType<typeof createHistoryRepository>;
