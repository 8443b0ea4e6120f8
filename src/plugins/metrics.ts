import fp from 'fastify-plugin';
import type { ResponseSample } from '../db/metrics-repository.js';
import { BatchWriter } from '../metrics/batch-writer.js';
import { createPrometheus } from '../metrics/prometheus.js';
import { metricsSummary, metricsTimeseries, recentJobs } from '../metrics/reports.js';
import { parseWindow } from '../metrics/window.js';
import type { MetricsSummary, MetricsTimeseries, RecentJobs } from '../schemas/metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: {
      /** Writes the buffered response times now. */
      flush(): Promise<void>;
      summary(window: string): Promise<MetricsSummary>;
      timeseries(window: string): Promise<MetricsTimeseries>;
      recentJobs(limit: number): Promise<RecentJobs>;
      prometheus(): Promise<string>;
      readonly prometheusContentType: string;
    };
  }
}

/**
 * Probes and the scrape itself: polled every few seconds by machines, they would
 * swamp the request histogram. They are still written to performance_metrics.
 */
export const HISTOGRAM_EXCLUDED_ROUTES = new Set(['/metrics', '/api/health', '/api/live', '/api/ready']);
const UNMATCHED = 'unmatched';
const MAX_BUFFERED = 50_000;
const FLUSH_AT = 1000;

/**
 * Every response's duration, by route pattern: buffered and written to
 * performance_metrics in batches, and observed in the Prometheus histogram.
 * Job metrics follow the job registry's events.
 */
export default fp(
  async function metricsPlugin(app) {
    const { config } = app;
    const repository = app.performanceMetrics;
    const health = app.healthLogs;
    const jobActivity = app.jobActivity;
    const log = app.log.child({ component: 'metrics' });
    const writer = new BatchWriter<ResponseSample>((rows) => repository.insertMany(rows), {
      maxBuffered: MAX_BUFFERED,
      flushAt: FLUSH_AT,
      onError: (err, rows) => log.warn({ err, rows }, 'could not write performance_metrics; will retry'),
    });
    const prometheus = createPrometheus({
      jobs: app.jobs,
      wsStats: app.wsStats,
      generatorName: app.generator.name,
      concurrency: config.JOB_CONCURRENCY,
      droppedSamples: () => writer.dropped,
    });

    if (config.METRICS_ENABLED) {
      app.addHook('onResponse', (request, reply, done) => {
        const route = request.routeOptions.url ?? UNMATCHED;
        const durationMs = reply.elapsedTime;
        writer.push({ route, method: request.method, statusCode: reply.statusCode, durationMs, createdAt: Date.now() });
        if (!HISTOGRAM_EXCLUDED_ROUTES.has(route))
          prometheus.observeRequest(request.method, route, reply.statusCode, durationMs / 1000);
        done();
      });
    }

    const flushTimer = setInterval(() => void writer.flush(), config.METRICS_FLUSH_MS);
    flushTimer.unref();

    app.decorate('metrics', {
      flush: () => writer.flush(),
      async summary(window: string) {
        const windowMs = parseWindow(window);
        await writer.flush();
        return metricsSummary(repository, window, windowMs);
      },
      async timeseries(window: string) {
        const windowMs = parseWindow(window);
        await writer.flush();
        return metricsTimeseries(repository, health, window, windowMs);
      },
      recentJobs: (limit: number) => recentJobs(jobActivity, limit),
      prometheus: () => prometheus.metrics(),
      prometheusContentType: prometheus.contentType,
    });

    app.addHook('onClose', async () => {
      clearInterval(flushTimer);
      prometheus.close();
      await writer.flush();
    });
  },
  { name: 'metrics', dependencies: ['config', 'db', 'gemini', 'jobs', 'websocket'] },
);
