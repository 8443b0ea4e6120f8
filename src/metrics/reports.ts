import type { HealthRepository } from '../db/health-repository.js';
import type { JobActivityRepository } from '../db/job-activity-repository.js';
import type { LatencyStats, MetricsRepository } from '../db/metrics-repository.js';
import { round2 as round } from '../round.js';
import { isoTime } from '../time.js';
import type { LatencySummary, MetricsSummary, MetricsTimeseries, RecentJobs } from '../schemas/metrics.js';

/** Every chart has this many points, whatever the window. */
export const BUCKETS = 30;

function latencySummary(stats: LatencyStats): LatencySummary {
  return {
    count: stats.count,
    serverErrors: stats.serverErrors,
    clientErrors: stats.clientErrors,
    errorRate: stats.count > 0 ? round((stats.serverErrors / stats.count) * 10_000) / 10_000 : 0,
    avgMs: round(stats.avgMs),
    maxMs: round(stats.maxMs),
    p50Ms: round(stats.p50),
    p95Ms: round(stats.p95),
    p99Ms: round(stats.p99),
  };
}

export async function metricsSummary(
  metrics: MetricsRepository,
  window: string,
  windowMs: number,
  now = Date.now(),
): Promise<MetricsSummary> {
  const from = now - windowMs;
  const [routes, overall] = await Promise.all([metrics.summary(from), metrics.overall(from)]);
  return {
    window,
    from: isoTime(from),
    to: isoTime(now),
    overall: overall ? latencySummary(overall) : null,
    routes: routes.map((r) => ({ method: r.method, route: r.route, ...latencySummary(r) })),
  };
}

/**
 * The dashboard's charts: request rate and latency from performance_metrics,
 * queue depth, memory and job throughput from the health sampler's rows.
 * Buckets are aligned to multiples of their size, so successive polls agree.
 */
export async function metricsTimeseries(
  metrics: MetricsRepository,
  health: HealthRepository,
  window: string,
  windowMs: number,
  now = Date.now(),
): Promise<MetricsTimeseries> {
  const bucketMs = Math.max(1000, Math.ceil(windowMs / BUCKETS / 1000) * 1000);
  const from = (Math.floor(now / bucketMs) - (BUCKETS - 1)) * bucketMs;
  const [latency, system] = await Promise.all([metrics.series(from, bucketMs), health.systemSeries(from, bucketMs)]);
  const latencyAt = new Map(latency.map((b) => [b.bucket, b]));
  const systemAt = new Map(system.map((b) => [b.bucket, b]));
  const buckets = Array.from({ length: BUCKETS }, (_, i) => {
    const l = latencyAt.get(i);
    const s = systemAt.get(i);
    return {
      t: isoTime(from + i * bucketMs),
      requests: l?.count ?? 0,
      serverErrors: l?.serverErrors ?? 0,
      p50Ms: l ? round(l.p50) : null,
      p95Ms: l ? round(l.p95) : null,
      p99Ms: l ? round(l.p99) : null,
      jobsCompleted: s?.completed ?? 0,
      jobsFailed: s?.failed ?? 0,
      jobsCancelled: s?.cancelled ?? 0,
      queued: s?.queued ?? null,
      running: s?.running ?? null,
      rssBytes: s?.rssBytes ?? null,
      heapUsedBytes: s?.heapUsedBytes ?? null,
    };
  });
  return { window, bucketMs, from: isoTime(from), to: isoTime(from + BUCKETS * bucketMs), buckets };
}

export async function recentJobs(jobActivity: JobActivityRepository, limit: number): Promise<RecentJobs> {
  const rows = await jobActivity.recent(limit);
  return {
    jobs: rows.map((r) => ({
      ...r,
      createdAt: isoTime(r.createdAt),
      completedAt: r.completedAt === null ? null : isoTime(r.completedAt),
    })),
  };
}
