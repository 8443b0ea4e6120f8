import { Type, type Static } from '@sinclair/typebox';
import { WINDOW_PATTERN } from '../metrics/window.js';
import { IsoDate, Nullable } from './common.js';
import { JobStatus } from './jobs.js';

export const WindowQuery = Type.Object({
  window: Type.String({
    pattern: WINDOW_PATTERN,
    default: '15m',
    description: 'How far back: 30s, 15m, 6h, 7d… (at most 30d)',
  }),
});

const LatencyFields = {
  count: Type.Integer(),
  serverErrors: Type.Integer({ description: 'Responses with status >= 500' }),
  clientErrors: Type.Integer({ description: 'Responses with status 400-499' }),
  errorRate: Type.Number({ description: 'serverErrors / count' }),
  avgMs: Type.Number(),
  maxMs: Type.Number(),
  p50Ms: Type.Number({ description: 'Nearest-rank percentiles of the response time' }),
  p95Ms: Type.Number(),
  p99Ms: Type.Number(),
};

export const LatencySummary = Type.Object(LatencyFields);
export type LatencySummary = Static<typeof LatencySummary>;
export const RouteSummary = Type.Object({
  method: Type.String(),
  route: Type.String({ description: 'The route pattern, e.g. /api/job/:jobId/status; "unmatched" for 404s' }),
  ...LatencyFields,
});
export type RouteSummary = Static<typeof RouteSummary>;

export const MetricsSummary = Type.Object(
  {
    window: Type.String(),
    from: IsoDate,
    to: IsoDate,
    overall: Nullable(LatencySummary),
    routes: Type.Array(RouteSummary),
  },
  { title: 'MetricsSummary' },
);
export type MetricsSummary = Static<typeof MetricsSummary>;

export const MetricsBucket = Type.Object({
  t: IsoDate,
  requests: Type.Integer(),
  serverErrors: Type.Integer(),
  p50Ms: Nullable(Type.Number()),
  p95Ms: Nullable(Type.Number()),
  p99Ms: Nullable(Type.Number()),
  jobsCompleted: Type.Integer(),
  jobsFailed: Type.Integer(),
  jobsCancelled: Type.Integer(),
  queued: Nullable(Type.Integer({ description: 'Peak queue depth seen by the health sampler in this bucket' })),
  running: Nullable(Type.Integer()),
  rssBytes: Nullable(Type.Integer()),
  heapUsedBytes: Nullable(Type.Integer()),
});
export type MetricsBucket = Static<typeof MetricsBucket>;

export const MetricsTimeseries = Type.Object(
  {
    window: Type.String(),
    bucketMs: Type.Integer(),
    from: IsoDate,
    to: IsoDate,
    buckets: Type.Array(MetricsBucket, {
      description: 'Oldest first; every bucket is present, the last one is still filling',
    }),
  },
  { title: 'MetricsTimeseries' },
);
export type MetricsTimeseries = Static<typeof MetricsTimeseries>;

export const RecentJob = Type.Object({
  jobId: Type.String({ format: 'uuid' }),
  id: Type.Integer(),
  status: JobStatus,
  generator: Type.String(),
  attempts: Type.Integer(),
  errorCode: Nullable(Type.String()),
  processingTimeMs: Nullable(Type.Integer()),
  createdAt: IsoDate,
  completedAt: Nullable(IsoDate),
});

export const RecentJobs = Type.Object({ jobs: Type.Array(RecentJob) }, { title: 'RecentJobs' });
export type RecentJobs = Static<typeof RecentJobs>;
