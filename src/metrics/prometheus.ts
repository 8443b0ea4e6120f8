import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobTimes } from '../jobs/job.js';
import type { JobRegistry } from '../jobs/registry.js';
import { isTerminal } from '../jobs/transitions.js';
import type { JobEvent } from '../schemas/jobs.js';
import type { WsStats } from '../websocket/hub.js';
import { processRegistry } from './process-registry.js';

export interface PrometheusSources {
  jobs: JobRegistry;
  wsStats: WsStats;
  generatorName: string;
  concurrency: number;
  /** Response times the batch writer could not keep. */
  droppedSamples(): number;
}

/**
 * This instance's Prometheus metrics, merged with the process's default ones.
 * Gauges read live state when scraped; counters follow job events.
 */
export function createPrometheus(sources: PrometheusSources) {
  const registry = new Registry();
  const registers = [registry];

  const requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Response time by method, route pattern and status code (probes and /metrics excluded)',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const jobsFinished = new Counter({
    name: 'idea2spec_jobs_finished_total',
    help: 'Jobs by final status',
    labelNames: ['status'] as const,
    registers,
  });
  const jobDuration = new Histogram({
    name: 'idea2spec_job_duration_seconds',
    help: 'From start (or from queueing, for jobs that never started) to the final status',
    labelNames: ['status'] as const,
    buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers,
  });
  const attempts = new Counter({
    name: 'idea2spec_generator_attempts_total',
    help: 'Generator attempts started (the Gemini CLI when generator="gemini")',
    labelNames: ['generator'] as const,
    registers,
  });
  const failures = new Counter({
    name: 'idea2spec_generator_failures_total',
    help: 'Failed attempts and failed jobs by reason (the error code)',
    labelNames: ['generator', 'reason'] as const,
    registers,
  });
  new Gauge({
    name: 'idea2spec_websocket_connections',
    help: 'Open WebSocket connections',
    registers,
    collect() {
      this.set(sources.wsStats.connections);
    },
  });
  new Gauge({
    name: 'idea2spec_websocket_subscriptions',
    help: 'Job subscriptions over all WebSocket connections',
    registers,
    collect() {
      this.set(sources.wsStats.subscriptions);
    },
  });
  new Gauge({
    name: 'idea2spec_jobs_queued',
    help: 'Queue depth: jobs waiting for a runner slot (in cluster mode, across every instance)',
    registers,
    collect() {
      this.set(sources.jobs.stats.queued);
    },
  });
  new Gauge({
    name: 'idea2spec_jobs_running',
    help: 'Jobs holding a runner slot',
    registers,
    collect() {
      this.set(sources.jobs.stats.running);
    },
  });
  new Gauge({
    name: 'idea2spec_cluster_jobs_running',
    help: 'Cluster mode: jobs running on any instance (0 in one process: see idea2spec_jobs_running)',
    registers,
    collect() {
      this.set(sources.jobs.stats.clusterRunning ?? 0);
    },
  });
  new Gauge({
    name: 'idea2spec_job_concurrency',
    help: 'Runner slots (JOB_CONCURRENCY)',
    registers,
    collect() {
      this.set(sources.concurrency);
    },
  });
  new Gauge({
    name: 'idea2spec_metrics_dropped_samples',
    help: 'Response times dropped because the buffer was full',
    registers,
    collect() {
      this.set(sources.droppedSamples());
    },
  });

  const lastAttempt = new Map<string, number>();
  const generator = sources.generatorName;
  const onJobEvent = (event: JobEvent, job: JobTimes) => {
    if (event.status === 'processing' && event.attempt > (lastAttempt.get(event.jobId) ?? 0)) {
      lastAttempt.set(event.jobId, event.attempt);
      attempts.inc({ generator });
    }
    if (event.error) failures.inc({ generator, reason: event.error.code });
    if (!isTerminal(event.status)) return;
    lastAttempt.delete(event.jobId);
    jobsFinished.inc({ status: event.status });
    const seconds = ((job.completedAt ?? Date.now()) - (job.startedAt ?? job.createdAt)) / 1000;
    jobDuration.observe({ status: event.status }, seconds);
  };
  const stopObserving = sources.jobs.observe(onJobEvent);

  const merged = Registry.merge([processRegistry(), registry]);
  return {
    contentType: merged.contentType,
    metrics: () => merged.metrics(),
    observeRequest(method: string, route: string, statusCode: number, seconds: number) {
      requestDuration.observe({ method, route, status_code: statusCode }, seconds);
    },
    close: stopObserving,
  };
}
