import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Errors } from '../errors.js';
import { ErrorResponse } from '../schemas/common.js';
import { toIdeaSummary, toStatsResponse } from '../http/history.js';
import { decodeCursor, encodeCursor, type Cursor } from '../http/history-cursor.js';
import { parseIdeaId } from '../http/ideas.js';
import { DeletedIdea, HistoryList, HistoryQuery, HistoryStatsResponse } from '../schemas/history.js';
import { IdeaIdParams } from '../schemas/ideas.js';

/** Earlier ideas: page through them, search them, see totals, delete one. */
const historyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/history',
    {
      schema: {
        tags: ['history'],
        summary: 'Earlier ideas, newest first: pages, cursor pages and full-text search',
        description:
          'Without `search`: newest first (ties broken by id); `page`+`asOf` or `cursor` walk without duplicates while new ideas arrive. ' +
          'With `search`: the idea and the spec are searched (English word forms, and any substring of Chinese, Japanese, Korean or Thai text); ' +
          'the newest matches up to search.window are ranked by relevance, each with a highlighted snippet.',
        querystring: HistoryQuery,
        response: { 200: HistoryList, 400: ErrorResponse },
      },
    },
    async (request) => {
      const { limit, status, asOf } = request.query;
      const search = request.query.search?.trim() ?? '';
      const cursor: Cursor | undefined =
        request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor);

      if (search !== '') {
        if (cursor?.kind === 'keyset')
          throw new Errors.InvalidCursor('this cursor belongs to a listing without search');
        const offset = cursor?.offset ?? (request.query.page - 1) * limit;
        const result = await app.history.search({ text: search, status, limit, offset, asOf: cursor?.asOf ?? asOf });
        const hasNext = offset + result.rows.length < result.total;
        return {
          data: result.rows.map(toIdeaSummary),
          pagination: pagination(
            Math.floor(offset / limit) + 1,
            limit,
            result.total,
            hasNext,
            offset > 0,
            result.asOf,
            hasNext ? encodeCursor({ kind: 'search', asOf: result.asOf, offset: offset + limit }) : null,
          ),
          search: {
            query: search,
            ranked: result.ranked,
            window: app.config.SEARCH_RANK_WINDOW,
            capped: result.capped,
          },
        };
      }

      if (cursor?.kind === 'search') throw new Errors.InvalidCursor('this cursor belongs to a search');
      if (cursor) {
        const result = await app.history.after({ status, limit, createdAt: cursor.createdAt, id: cursor.id });
        const last = result.rows.at(-1);
        const next =
          result.hasMore && last
            ? encodeCursor({ kind: 'keyset', createdAt: last.createdAt, id: last.id, page: cursor.page + 1 })
            : null;
        return {
          data: result.rows.map(toIdeaSummary),
          pagination: pagination(cursor.page, limit, result.total, result.hasMore, cursor.page > 1, null, next),
          search: null,
        };
      }

      const { page } = request.query;
      const offset = (page - 1) * limit;
      const result = await app.history.page({ status, limit, offset, asOf });
      const hasNext = offset + result.rows.length < result.total;
      const last = result.rows.at(-1);
      return {
        data: result.rows.map(toIdeaSummary),
        pagination: pagination(
          page,
          limit,
          result.total,
          hasNext,
          page > 1,
          result.asOf,
          hasNext && last
            ? encodeCursor({ kind: 'keyset', createdAt: last.createdAt, id: last.id, page: page + 1 })
            : null,
        ),
        search: null,
      };
    },
  );

  app.get(
    '/api/history/stats',
    {
      schema: {
        tags: ['history'],
        summary: 'Totals by status, processing-time average and percentiles, ideas per day for 7 days',
        response: { 200: HistoryStatsResponse },
      },
    },
    async () => {
      const now = Date.now();
      return toStatsResponse(await app.history.stats(now), now);
    },
  );

  app.delete(
    '/api/history/:id',
    {
      schema: {
        tags: ['history'],
        summary: 'Delete an idea (its job is cancelled first if it is still running); search forgets it at once',
        params: IdeaIdParams,
        response: { 200: DeletedIdea, 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request) => {
      const id = parseIdeaId(request.params.id);
      const row = id === undefined ? undefined : await app.ideas.findById(id);
      if (!row) throw new Errors.IdeaNotFound(request.params.id);
      const cancelled = await app.jobs.cancelIfRunning(row.jobId, 'Cancelled because the idea was deleted');
      if (!(await app.ideas.remove(row.id))) throw new Errors.IdeaNotFound(request.params.id);
      return { id: row.id, jobId: row.jobId, deleted: true as const, cancelled };
    },
  );
};

function pagination(
  page: number,
  limit: number,
  total: number,
  hasNext: boolean,
  hasPrev: boolean,
  asOf: number | null,
  nextCursor: string | null,
) {
  return { page, limit, total, totalPages: Math.ceil(total / limit), hasNext, hasPrev, nextCursor, asOf };
}

export default historyRoutes;
