import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorResponse } from '../schemas/common.js';
import { MetricsSummary, MetricsTimeseries, RecentJobs, WindowQuery } from '../schemas/metrics.js';

/** Response-time summaries, the dashboard's series and feed, and the Prometheus scrape. */
const metricsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/metrics/summary',
    {
      schema: {
        tags: ['health'],
        summary: 'Per-route count, error rate and p50/p95/p99 response time over a window',
        querystring: WindowQuery,
        response: { 200: MetricsSummary, 400: ErrorResponse },
      },
    },
    async (request) => app.metrics.summary(request.query.window),
  );

  app.get(
    '/api/metrics/timeseries',
    {
      schema: {
        tags: ['health'],
        summary:
          "The dashboard's charts: request rate, latency percentiles, job throughput, queue depth and memory in 30 buckets",
        querystring: WindowQuery,
        response: { 200: MetricsTimeseries, 400: ErrorResponse },
      },
    },
    async (request) => app.metrics.timeseries(request.query.window),
  );

  app.get(
    '/api/jobs/recent',
    {
      schema: {
        tags: ['health'],
        summary: 'The latest jobs, newest first: status and timings, never the idea or its spec',
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) }),
        response: { 200: RecentJobs, 400: ErrorResponse },
      },
    },
    async (request) => app.metrics.recentJobs(request.query.limit),
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus text exposition',
        produces: ['text/plain'],
        response: { 200: Type.String({ description: 'Prometheus text format 0.0.4' }) },
      },
    },
    async (_request, reply) => reply.type(app.metrics.prometheusContentType).send(await app.metrics.prometheus()),
  );
};

export default metricsRoutes;
