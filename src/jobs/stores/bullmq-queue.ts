import { redisErrorLog } from '../../redis/error-log.js';
import { Queue, WaitingError, Worker, type Job as BullJob } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import { Redis, type RedisOptions } from 'ioredis';
import { Errors } from '../../errors.js';
import { settleWithin } from '../../time.js';
import type { AddOptions, JobQueue, JobRunner, QueueCounts } from './queue.js';

export interface BullMqQueueOptions {
  url: string;
  /** The queue's name; its keys are `bull:<name>:…`. */
  name: string;
  /** Jobs run at once by this instance's worker (JOB_CONCURRENCY). */
  concurrency: number;
  /** Jobs allowed to wait, counted across the cluster (JOB_QUEUE_LIMIT). */
  limit: number;
  /** False for ROLE=api: this instance queues jobs but runs none. */
  work: boolean;
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** How long adding a job or counting the queue may wait for Redis (JOB_ENQUEUE_TIMEOUT_MS). */
  timeoutMs: number;
  /** Stalls (a worker that died or froze) a job survives; the runner counts generator attempts itself. */
  maxStalledCount: number;
  log: FastifyBaseLogger;
}

/** How often the cluster-wide counts are read for health and metrics. */
const COUNTS_EVERY_MS = 1000;

/** Rejects with QueueUnavailable when Redis does not answer within ms: a request must not hang on it. */
async function within<T>(ms: number, what: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Errors.QueueUnavailable(`no answer from Redis within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([what, late]);
  } catch (err) {
    if (err instanceof Errors.QueueUnavailable) throw err;
    throw new Errors.QueueUnavailable(`Redis: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The queue of a cluster: BullMQ on Redis. A job's BullMQ id is its UUID, so
 * adding it twice does nothing. Each instance's worker takes up to
 * JOB_CONCURRENCY jobs and holds a lock on each; when an instance dies or
 * freezes, its lock lapses and BullMQ's stalled-job check hands the job to
 * another. A graceful shutdown moves running jobs back to waiting without
 * failing them.
 */
export class BullMqJobQueue implements JobQueue {
  readonly shared = true;
  private readonly queue: Queue;
  /** Adding and counting fail fast while Redis is away (the worker's connection waits for it). */
  private readonly producer: Redis;
  private worker: Worker | undefined;
  private readonly connections: Redis[] = [];
  private active = 0;
  private readonly idleWaiters = new Set<() => void>();
  /** Lease-lost signals of the jobs this worker runs, by job id. */
  private readonly leases = new Map<string, AbortController>();
  private cluster = { waiting: 0, active: 0 };
  private readonly countsTimer: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: BullMqQueueOptions) {
    this.producer = this.connect({ enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.queue = new Queue(options.name, { connection: this.producer });
    this.queue.on('error', redisErrorLog(options.log, 'job queue'));
    this.countsTimer = setInterval(() => void this.refreshCounts(), COUNTS_EVERY_MS).unref();
  }

  private connect(extra: RedisOptions = {}): Redis {
    const connection = new Redis(this.options.url, {
      connectionName: 'idea2spec-queue',
      maxRetriesPerRequest: null,
      retryStrategy: (times) => Math.min(times * 200, 2000),
      ...extra,
    });
    connection.on('error', () => undefined);
    this.connections.push(connection);
    return connection;
  }

  /** The key of BullMQ's lock on a job; its value is the token of the worker running it. */
  lockKey(jobId: string): string {
    return `${this.queue.toKey(jobId)}:lock`;
  }

  process(run: JobRunner): void {
    if (!this.options.work) return;
    const { concurrency, lockDurationMs, stalledIntervalMs, maxStalledCount, log } = this.options;
    this.worker = new Worker(this.options.name, (job, token) => this.handle(job, token, run), {
      connection: this.connect(),
      concurrency,
      lockDuration: lockDurationMs,
      stalledInterval: stalledIntervalMs,
      maxStalledCount,
    });
    this.worker.on('error', redisErrorLog(log, 'job worker'));
    this.worker.on('lockRenewalFailed', (jobIds: string[]) => {
      for (const jobId of jobIds) this.leases.get(jobId)?.abort(new Error('the queue lock on the job lapsed'));
    });
    this.worker.on('stalled', (jobId) => log.warn({ jobId }, 'job stalled on its instance; another one takes it'));
  }

  private async handle(job: BullJob, token: string | undefined, run: JobRunner): Promise<void> {
    const jobId = job.id as string;
    const lost = new AbortController();
    this.leases.set(jobId, lost);
    this.active++;
    try {
      const outcome = await run(jobId, {
        token: token ?? '',
        lost: lost.signal,
        holds: async () => (await this.producer.get(this.lockKey(jobId))) === token,
      });
      if (outcome === 'handed-back') {
        // Back to waiting without failing it, so another instance takes it with no attempt spent.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (outcome === 'lost') throw new Error(`Job ${jobId}: its lock lapsed and another instance may run it`);
    } finally {
      this.leases.delete(jobId);
      this.active--;
      if (this.active === 0) {
        for (const wake of this.idleWaiters) wake();
        this.idleWaiters.clear();
      }
    }
  }

  async hasRoom(): Promise<boolean> {
    const counts = await within(this.options.timeoutMs, this.queue.getJobCounts('wait', 'prioritized', 'delayed'));
    const waiting = (counts.wait ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
    return waiting < this.options.limit;
  }

  async add(jobId: string, { afterMs = 0 }: AddOptions = {}): Promise<void> {
    const delay = afterMs > 0 ? { delay: afterMs } : {};
    await within(
      this.options.timeoutMs,
      this.queue.add('generate', {}, { jobId, removeOnComplete: true, removeOnFail: true, ...delay }),
    );
  }

  async remove(jobId: string): Promise<boolean> {
    try {
      return (await this.queue.remove(jobId)) === 1;
    } catch {
      // Locked: a worker has it now, and a cancel reaches it there.
      return false;
    }
  }

  private async refreshCounts(): Promise<void> {
    try {
      const counts = await this.queue.getJobCounts('wait', 'prioritized', 'delayed', 'active');
      this.cluster = {
        waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
        active: counts.active ?? 0,
      };
    } catch {
      // Redis is away: health says so; the last counts stand
    }
  }

  counts(): QueueCounts {
    return { waiting: this.cluster.waiting, running: this.active, clusterRunning: this.cluster.active };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Takes no new job; the running ones are interrupted by the registry and handed back.
    await this.worker?.pause(true);
  }

  async idle(): Promise<void> {
    if (this.active === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.add(resolve));
  }

  async close(): Promise<void> {
    clearInterval(this.countsTimer);
    if (!this.stopped) await this.stop();
    await settleWithin(Promise.allSettled([this.worker?.close(true), this.queue.close()]), 2000);
    for (const connection of this.connections) connection.disconnect();
  }
}
