import { Type, type Static } from '@sinclair/typebox';
import { IDEA_CHARS } from '../db/history-repository.js';
import { IsoDate } from './common.js';
import { IdeaDetail } from './ideas.js';
import { JOB_STATUSES } from '../jobs/transitions.js';
import { JobStatus } from './jobs.js';

export const HistoryQuery = Type.Object({
  page: Type.Integer({
    minimum: 1,
    maximum: 1_000_000,
    default: 1,
    description: 'Page number (ignored when a cursor is given)',
  }),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  search: Type.Optional(
    Type.String({
      maxLength: 500,
      description: 'Full-text search over the idea and the spec; any text is taken literally. Empty means no filter.',
    }),
  ),
  status: Type.Optional(JobStatus),
  cursor: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'pagination.nextCursor of the previous page: the next page, as fast at any depth',
    }),
  ),
  asOf: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description:
        'pagination.asOf of the first page: later pages leave out ideas created since, so nothing shifts between pages',
    }),
  ),
});
export type HistoryQuery = Static<typeof HistoryQuery>;

/** The fields of IdeaDetail a list can afford, with the idea cut short and the spec replaced by a preview. */
export const IdeaSummary = Type.Composite(
  [
    Type.Pick(IdeaDetail, [
      'id',
      'jobId',
      'status',
      'template',
      'generator',
      'model',
      'attempts',
      'error',
      'processingTimeMs',
      'outputLength',
      'createdAt',
      'updatedAt',
      'completedAt',
    ]),
    Type.Object({
      idea: Type.String({ description: `The idea, cut to ${IDEA_CHARS} characters` }),
      preview: Type.String({ description: 'The beginning of the spec as plain text; GET /api/spec/:id has all of it' }),
      snippet: Type.Optional(
        Type.String({ description: 'Search results only: the hit in context as HTML (text escaped, hits in <mark>)' }),
      ),
    }),
  ],
  { title: 'IdeaSummary' },
);
export type IdeaSummary = Static<typeof IdeaSummary>;

export const HistoryList = Type.Object(
  {
    data: Type.Array(IdeaSummary),
    pagination: Type.Object({
      page: Type.Integer(),
      limit: Type.Integer(),
      total: Type.Integer({
        description: 'Ideas in the listing; for a search, the ranked matches (at most search.window)',
      }),
      totalPages: Type.Integer(),
      hasNext: Type.Boolean(),
      hasPrev: Type.Boolean(),
      nextCursor: Type.Union([Type.String(), Type.Null()]),
      asOf: Type.Union([Type.Integer(), Type.Null()], {
        description:
          'Newest idea id this listing covers; pass it back with page=N to page without shifts (null on cursor pages, which need none)',
      }),
    }),
    search: Type.Union([
      Type.Object({
        query: Type.String(),
        ranked: Type.Boolean({
          description:
            'false when a very common one- or two-character CJK query is ordered by recency instead of relevance',
        }),
        window: Type.Integer({ description: 'How many of the newest matches are ranked' }),
        capped: Type.Boolean({
          description: 'More ideas match than the window holds; narrow the query to reach older ones',
        }),
      }),
      Type.Null(),
    ]),
  },
  { title: 'HistoryList' },
);
export type HistoryList = Static<typeof HistoryList>;

const Millis = Type.Union([Type.Integer(), Type.Null()]);

export const HistoryStatsResponse = Type.Object(
  {
    total: Type.Integer(),
    byStatus: Type.Object(Object.fromEntries(JOB_STATUSES.map((s) => [s, Type.Integer()]))),
    processingTime: Type.Object(
      { count: Type.Integer(), averageMs: Millis, p50Ms: Millis, p95Ms: Millis },
      { description: 'Completed ideas: how long generation took (nearest-rank percentiles)' },
    ),
    perDay: Type.Array(Type.Object({ date: Type.String({ format: 'date' }), count: Type.Integer() }), {
      description: 'Ideas created per UTC day, the last 7 days, oldest first',
    }),
    generatedAt: IsoDate,
  },
  { title: 'HistoryStats' },
);
export type HistoryStatsResponse = Static<typeof HistoryStatsResponse>;

export const DeletedIdea = Type.Object(
  {
    id: Type.Integer(),
    jobId: Type.String({ format: 'uuid' }),
    deleted: Type.Literal(true),
    cancelled: Type.Boolean({ description: 'The job was still running and was cancelled first' }),
  },
  { title: 'DeletedIdea' },
);
export type DeletedIdea = Static<typeof DeletedIdea>;
