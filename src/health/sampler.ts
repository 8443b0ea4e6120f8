import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import { databaseErrorMessage } from '../db/error-message.js';
import type { HealthLogRow, HealthRepository, OverallDetails } from '../db/health-repository.js';
import type { JobActivityRepository } from '../db/job-activity-repository.js';
import type { GeminiHealthCheck } from '../gemini/health-check.js';
import type { JobRegistry } from '../jobs/registry.js';
import { packageVersion } from '../paths.js';
import { round2 } from '../round.js';
import type { ClusterInstance, HealthReport, Readiness, ServicesHealth, SystemHealth } from '../schemas/health.js';
import { isoTime } from '../time.js';
import type { WsStats } from '../websocket/hub.js';
import { RedisRefusesWrites, type RedisProbe } from './redis-probe.js';
import { geminiServiceStatus, overallStatus, THRESHOLDS } from './status.js';
import { SystemStats } from './system-stats.js';

export interface SamplerDeps {
  config: Config;
  health: HealthRepository;
  jobActivity: JobActivityRepository;
  gemini: GeminiHealthCheck;
  jobs: JobRegistry;
  wsStats: WsStats;
  redis?: RedisProbe;
  /** Cluster mode: the instances alive, from the last heartbeat. */
  instances?: () => ClusterInstance[];
  /** What is wrong with the database file at its path (gone, replaced), if anything. */
  databaseFile?: () => string | undefined;
  log: FastifyBaseLogger;
}

/** What one round of checks found; requests read it, never refresh it. */
interface Sample {
  at: number;
  /** `at` as ISO 8601, formatted once per sample rather than once per health request. */
  atIso: string;
  database: ServicesHealth['database'];
  jobsLastHour: { completed: number; failed: number };
  redis?: ServicesHealth['redis'];
  system: SystemHealth;
}

const PROBE_TIMEOUT_MS = 2000;
const HOUR_MS = 60 * 60 * 1000;

/**
 * Runs every check on a timer (HEALTH_SAMPLE_MS), one round at a time, keeps the
 * latest results for the health routes and writes them to health_logs. The
 * Gemini CLI is checked on its own, slower schedule (GEMINI_HEALTH_CHECK_MS).
 */
export class HealthSampler {
  private latest: Sample;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly system = new SystemStats();
  private lastJobCounters: { completed: number; failed: number; cancelled: number };
  private loggedGeminiCheck: string | null = null;
  /** Why the last health_logs write failed: the sampler's own write probe. */
  private logWriteError: string | undefined;
  private readonly staleAfterMs: number;

  constructor(private readonly deps: SamplerDeps) {
    const at = Date.now();
    this.latest = {
      at,
      atIso: isoTime(at),
      database: {
        status: 'DOWN',
        checkedAt: isoTime(at),
        latencyMs: null,
        migrationsApplied: false,
        error: 'not checked yet',
      },
      jobsLastHour: { completed: 0, failed: 0 },
      system: this.system.sample(),
    };
    const { completed, failed, cancelled } = deps.jobs.stats;
    this.lastJobCounters = { completed, failed, cancelled };
    this.staleAfterMs = Math.max(3 * deps.config.HEALTH_SAMPLE_MS, 30_000);
  }

  /** Takes the first sample, then keeps sampling until close(). */
  async start(): Promise<void> {
    await this.sample();
    this.timer = setTimeout(() => this.tick(), this.deps.config.HEALTH_SAMPLE_MS);
    this.timer.unref();
  }

  private tick(): void {
    void this.sample().finally(() => this.timer?.refresh());
  }

  /** One round of checks; a call while one runs joins it. */
  sample(): Promise<void> {
    this.running ??= this.collect()
      .catch((err: unknown) => this.deps.log.error({ err }, 'health sample failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async collect(): Promise<void> {
    const { config, gemini } = this.deps;
    if (
      gemini.active &&
      config.GEMINI_HEALTH_CHECK_MS > 0 &&
      Date.now() - gemini.lastStartedAt >= config.GEMINI_HEALTH_CHECK_MS
    ) {
      // Not awaited: the CLI takes seconds to start and must not hold up the other checks.
      void gemini.check();
    }
    const [database, redis, jobsLastHour] = await Promise.all([
      this.checkDatabase(),
      this.checkRedis(),
      this.countJobs(),
    ]);
    const at = Date.now();
    this.latest = { at, atIso: isoTime(at), database, redis, jobsLastHour, system: this.system.sample() };
    await this.writeLogs();
  }

  private async checkDatabase(): Promise<ServicesHealth['database']> {
    const started = performance.now();
    try {
      await withTimeout(this.deps.health.ping(), PROBE_TIMEOUT_MS);
      const latencyMs = round2(performance.now() - started);
      const migrationsApplied = await withTimeout(this.deps.health.migrationsApplied(), PROBE_TIMEOUT_MS);
      // Reads can succeed while nothing can be stored: a full disk, a read-only or deleted file.
      const unwritable = this.unwritable();
      if (unwritable !== undefined)
        return { status: 'DOWN', checkedAt: isoTime(Date.now()), latencyMs, migrationsApplied, error: unwritable };
      const status = latencyMs > THRESHOLDS.databaseLatencyMs ? 'DEGRADED' : 'OK';
      return { status, checkedAt: isoTime(Date.now()), latencyMs, migrationsApplied };
    } catch (err) {
      return {
        status: 'DOWN',
        checkedAt: isoTime(Date.now()),
        latencyMs: null,
        migrationsApplied: this.latest.database.migrationsApplied,
        error: databaseErrorMessage(err),
      };
    }
  }

  private unwritable(): string | undefined {
    const file = this.deps.databaseFile?.();
    if (file !== undefined) return file;
    const rows = this.deps.jobs.rowWriteFailure();
    if (rows !== undefined)
      return `writes fail (${rows.jobs} job row${rows.jobs === 1 ? '' : 's'} waiting to be stored): ${rows.error}`;
    if (this.logWriteError !== undefined) return `writes fail: ${this.logWriteError}`;
    return undefined;
  }

  private async checkRedis(): Promise<ServicesHealth['redis']> {
    if (!this.deps.redis) return undefined;
    try {
      const latencyMs = await this.deps.redis.ping(PROBE_TIMEOUT_MS);
      return { status: 'OK', checkedAt: isoTime(Date.now()), latencyMs };
    } catch (err) {
      // Reachable, but new ideas are refused and running jobs' events wait: the service works, worse.
      if (err instanceof RedisRefusesWrites)
        return { status: 'DEGRADED', checkedAt: isoTime(Date.now()), latencyMs: null, error: message(err) };
      return { status: 'DOWN', checkedAt: isoTime(Date.now()), latencyMs: null, error: message(err) };
    }
  }

  private async countJobs(): Promise<Sample['jobsLastHour']> {
    try {
      return await withTimeout(this.deps.jobActivity.endedSince(Date.now() - HOUR_MS), PROBE_TIMEOUT_MS);
    } catch {
      return this.latest.jobsLastHour;
    }
  }

  private async writeLogs(): Promise<void> {
    const { latest } = this;
    const report = this.report();
    const counters = this.deps.jobs.stats;
    const details: OverallDetails = {
      status: report.status,
      rssBytes: latest.system.memory.rssBytes,
      heapUsedBytes: latest.system.memory.heapUsedBytes,
      queued: counters.queued,
      running: counters.running,
      connections: this.deps.wsStats.connections,
      eventLoopP99Ms: latest.system.eventLoopDelay.p99Ms,
      completed: counters.completed - this.lastJobCounters.completed,
      failed: counters.failed - this.lastJobCounters.failed,
      cancelled: counters.cancelled - this.lastJobCounters.cancelled,
    };
    this.lastJobCounters = { completed: counters.completed, failed: counters.failed, cancelled: counters.cancelled };
    const rows: HealthLogRow[] = [
      {
        service: 'overall',
        status: report.status,
        latencyMs: null,
        details: { ...details, reasons: report.reasons },
        createdAt: latest.at,
      },
      {
        service: 'database',
        status: latest.database.status,
        latencyMs: latest.database.latencyMs,
        details: latest.database.error ? { error: latest.database.error } : null,
        createdAt: latest.at,
      },
    ];
    if (latest.redis)
      rows.push({
        service: 'redis',
        status: latest.redis.status,
        latencyMs: latest.redis.latencyMs,
        details: latest.redis.error ? { error: latest.redis.error } : null,
        createdAt: latest.at,
      });
    const gemini = this.deps.gemini.view();
    if (gemini.checkedAt !== null && gemini.checkedAt !== this.loggedGeminiCheck) {
      this.loggedGeminiCheck = gemini.checkedAt;
      rows.push({
        service: 'gemini',
        status: gemini.status,
        latencyMs: gemini.latencyMs,
        details: { version: gemini.version, error: gemini.error ?? null },
        createdAt: Date.parse(gemini.checkedAt),
      });
    }
    try {
      await this.deps.health.insertLogs(rows);
      this.logWriteError = undefined;
    } catch (err) {
      this.logWriteError = databaseErrorMessage(err);
      this.deps.log.warn({ err: this.logWriteError }, 'could not write health_logs');
    }
  }

  /** The health report from the latest sample plus in-memory counters; runs no check. */
  report(): HealthReport {
    const now = Date.now();
    const nowIso = isoTime(now);
    const { latest } = this;
    const { config, wsStats } = this.deps;
    const gemini = this.deps.gemini.view();
    const jobs = this.deps.jobs.stats;
    const queueFull = jobs.running >= config.JOB_CONCURRENCY && jobs.queued >= config.JOB_QUEUE_LIMIT;
    const services: ServicesHealth = {
      database: latest.database,
      gemini: {
        status: geminiServiceStatus(gemini),
        checkedAt: gemini.checkedAt ?? nowIso,
        active: gemini.generator === 'gemini',
        cli: gemini.status,
        version: gemini.version,
        latencyMs: gemini.latencyMs,
        circuit: gemini.circuit.state,
      },
      websocket: {
        status: 'OK',
        checkedAt: nowIso,
        connections: wsStats.connections,
        subscriptions: wsStats.subscriptions,
      },
      jobs: {
        status: queueFull ? 'DEGRADED' : 'OK',
        checkedAt: nowIso,
        queued: jobs.queued,
        running: jobs.running,
        ...(jobs.clusterRunning !== undefined ? { clusterRunning: jobs.clusterRunning } : {}),
        queueLimit: config.JOB_QUEUE_LIMIT,
        completedLastHour: latest.jobsLastHour.completed,
        failedLastHour: latest.jobsLastHour.failed,
      },
      ...(latest.redis ? { redis: latest.redis } : {}),
    };
    const { status, reasons } = overallStatus(services, latest.system, now - latest.at, this.staleAfterMs);
    return {
      status,
      reasons,
      timestamp: nowIso,
      sampledAt: latest.atIso,
      uptime: uptimeSeconds(),
      version: packageVersion,
      services,
      system: latest.system,
      ...(this.deps.instances ? { instances: this.deps.instances() } : {}),
    };
  }

  /** Shutting down needs no check here: from the start of close(), Fastify answers every request, this one too, with 503. */
  readiness(): Readiness {
    const { database } = this.latest;
    const checks = { database: database.status !== 'DOWN', migrations: database.migrationsApplied };
    return { ready: checks.database && checks.migrations, checks };
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    this.system.close();
  }
}

/** Seconds since the process started, to the millisecond. */
export function uptimeSeconds(): number {
  return Math.round(process.uptime() * 1000) / 1000;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
