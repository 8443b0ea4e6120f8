import type { GeminiHealth, HealthStatus, ServicesHealth, SystemHealth } from '../schemas/health.js';

/** Beyond these the service still works, but worse than it should: DEGRADED. */
export const THRESHOLDS = { databaseLatencyMs: 1000, eventLoopP99Ms: 1000 } as const;

/** The Gemini CLI's own state as a service status: it only counts when jobs run on it. */
export function geminiServiceStatus(gemini: GeminiHealth): HealthStatus {
  if (gemini.generator !== 'gemini') return 'OK';
  return gemini.status === 'ready' || gemini.status === 'unknown' ? 'OK' : 'DEGRADED';
}

/**
 * The answer of GET /api/gemini/health: 503 only while jobs run on the Gemini CLI
 * and it is not ready. With another generator the CLI is informational — the
 * service works without it — so a fresh install on the offline drafter answers
 * 200 (`not_configured`, `generator: offline`), as /api/health and /status say,
 * and its probes do not count as server errors.
 */
export function geminiProbeStatusCode(gemini: GeminiHealth): 200 | 503 {
  return gemini.generator !== 'gemini' || gemini.status === 'ready' ? 200 : 503;
}

/**
 * DOWN only when the service cannot do its job at all (no database, or a schema
 * older than the code); DEGRADED when it works but something is missing or slow.
 */
export function overallStatus(
  services: ServicesHealth,
  system: SystemHealth,
  sampleAgeMs: number,
  staleAfterMs: number,
): { status: HealthStatus; reasons: string[] } {
  const down: string[] = [];
  const degraded: string[] = [];
  const { database, gemini, jobs, redis } = services;
  if (database.status === 'DOWN') down.push(`database unreachable${database.error ? `: ${database.error}` : ''}`);
  else if (!database.migrationsApplied) down.push('database migrations not applied');
  else if (database.status === 'DEGRADED') degraded.push(`database slow: ${database.latencyMs} ms`);
  if (sampleAgeMs > staleAfterMs)
    degraded.push(`health checks are stale: last sample ${Math.round(sampleAgeMs / 1000)} s ago`);
  if (gemini.status !== 'OK') degraded.push(`Gemini CLI ${gemini.cli}`);
  if (jobs.status !== 'OK') degraded.push(`job queue full: ${jobs.queued} waiting (limit ${jobs.queueLimit})`);
  if (redis && redis.status !== 'OK') {
    const what = redis.status === 'DOWN' ? 'redis unreachable' : 'redis refuses writes';
    degraded.push(`${what}${redis.error ? `: ${redis.error}` : ''}`);
  }
  if (system.eventLoopDelay.p99Ms > THRESHOLDS.eventLoopP99Ms)
    degraded.push(`event loop delay p99 ${system.eventLoopDelay.p99Ms} ms`);
  if (down.length > 0) return { status: 'DOWN', reasons: [...down, ...degraded] };
  return { status: degraded.length > 0 ? 'DEGRADED' : 'OK', reasons: degraded };
}
