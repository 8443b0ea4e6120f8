import type { FastifyBaseLogger } from 'fastify';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { newInstanceId } from '../instance-id.js';
import { JobRegistry } from '../jobs/registry.js';
import { BullMqJobQueue } from '../jobs/stores/bullmq-queue.js';
import type { JobControl } from '../jobs/stores/control.js';
import type { EventLog } from '../jobs/stores/event-log.js';
import { MemoryJobControl } from '../jobs/stores/memory-control.js';
import { MemoryEventLog } from '../jobs/stores/memory-event-log.js';
import { MemoryJobQueue } from '../jobs/stores/memory-queue.js';
import type { JobQueue } from '../jobs/stores/queue.js';
import { RedisJobControl } from '../jobs/stores/redis-control.js';
import { RedisEventLog } from '../jobs/stores/redis-event-log.js';
import { closeRedis, createFailFastRedis, waitUntilReady } from '../redis/fail-fast-client.js';

declare module 'fastify' {
  interface FastifyInstance {
    jobs: JobRegistry;
    /** Every job's numbered events and text so far: what WebSocket subscriptions read. */
    jobEvents: EventLog;
    /** This running instance's name in shared state (cluster mode) and logs. */
    instanceId: string;
  }
}

/** Prefix of the keys and channels the service keeps in Redis (BullMQ's own are `bull:<queue>:…`). */
const REDIS_PREFIX = 'idea2spec';
const QUEUE_NAME = 'idea2spec-jobs';
/** Stalls a job survives in BullMQ; its generator attempts are counted by the runner, which ends it at GEMINI_MAX_ATTEMPTS. */
const MAX_STALLS = 100;
/**
 * A key every instance keeps in Redis: when it is gone while Redis stayed up (FLUSHALL, a key
 * evicted, a failover to an empty replica), Redis has lost its data, queue included, just as
 * a restart without persistence loses it, and the unfinished jobs are queued again.
 */
const DATA_MARKER_KEY = `${REDIS_PREFIX}:data-marker`;
const DATA_MARKER_CHECK_MS = 2000;

interface Stores {
  queue: JobQueue;
  events: EventLog;
  control: JobControl;
  /** Calls `recover` each time Redis is reachable again after an outage, or has lost its data while up. */
  onReconnect(recover: () => void): void;
  close(): Promise<void>;
}

function memoryStores(config: Config): Stores {
  return {
    queue: new MemoryJobQueue({ concurrency: config.JOB_CONCURRENCY, limit: config.JOB_QUEUE_LIMIT }),
    events: new MemoryEventLog(),
    control: new MemoryJobControl(),
    onReconnect: () => {},
    close: async () => {},
  };
}

/** Cluster mode: BullMQ for the queue, a Redis stream per job for its events, pub/sub for cancels and ends. */
async function redisStores(url: string, config: Config, instanceId: string, log: FastifyBaseLogger): Promise<Stores> {
  const commands = createFailFastRedis(url, 'idea2spec-jobs');
  commands.on('error', () => undefined);
  const queue = new BullMqJobQueue({
    url,
    name: QUEUE_NAME,
    concurrency: config.JOB_CONCURRENCY,
    limit: config.JOB_QUEUE_LIMIT,
    work: config.ROLE !== 'api',
    lockDurationMs: config.JOB_LOCK_DURATION_MS,
    stalledIntervalMs: config.JOB_STALLED_INTERVAL_MS,
    timeoutMs: config.JOB_ENQUEUE_TIMEOUT_MS,
    maxStalledCount: MAX_STALLS,
    log,
  });
  const waitingConnection = (name: string) =>
    new Redis(url, { connectionName: name, maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(n * 200, 2000) });
  const events = new RedisEventLog({
    commands,
    reader: waitingConnection('idea2spec-events'),
    prefix: REDIS_PREFIX,
    lockKey: (jobId) => queue.lockKey(jobId),
    retentionMs: config.JOB_RETENTION_MS,
    log,
  });
  const control = new RedisJobControl({
    commands,
    subscriber: waitingConnection('idea2spec-control'),
    prefix: REDIS_PREFIX,
    instanceId,
    log,
  });
  if (!(await waitUntilReady(commands, config.JOB_ENQUEUE_TIMEOUT_MS)))
    log.warn('Redis is not reachable yet: new ideas get 503 until it is, and unfinished jobs are queued once it is');
  let readyBefore = commands.status === 'ready';
  const reconnectListeners: Array<() => void> = [];
  const reconnected = () => {
    for (const listener of reconnectListeners) listener();
  };
  commands.on('ready', () => {
    if (readyBefore) reconnected();
    readyBefore = true;
  });
  // SET NX answers OK only when the key was missing: after the first answer, that is data lost meanwhile.
  let marked = false;
  const checkMarker = async () => {
    if (commands.status !== 'ready') return;
    try {
      const created = (await commands.set(DATA_MARKER_KEY, instanceId, 'NX')) === 'OK';
      if (created && marked) {
        log.warn('Redis lost its data while it stayed up (its marker key is gone): queuing unfinished jobs again');
        reconnected();
      }
      marked = true;
    } catch {
      // Unreachable or refusing writes: looked at again on the next round
    }
  };
  await checkMarker();
  const markerTimer = setInterval(() => void checkMarker(), DATA_MARKER_CHECK_MS).unref();
  return {
    queue,
    events,
    control,
    onReconnect: (listener) => reconnectListeners.push(listener),
    close: () => {
      clearInterval(markerTimer);
      return closeRedis(commands);
    },
  };
}

/**
 * The job registry, and the one place where the shared-state seams get their
 * implementation: in one process the queue, the event log and job control live
 * in memory; with REDIS_URL (cluster mode) they are BullMQ and Redis, shared by
 * every instance. Unfinished jobs are recovered before the server listens (in
 * cluster mode also whenever Redis comes back); on close, running jobs get
 * SHUTDOWN_GRACE_MS to finish and the rest are handed back to the queue.
 */
export default fp(
  async function jobsPlugin(app) {
    const { config } = app;
    const instanceId = newInstanceId();
    const stores = config.REDIS_URL
      ? await redisStores(config.REDIS_URL, config, instanceId, app.log)
      : memoryStores(config);
    const { queue, events, control } = stores;
    const registry = new JobRegistry({
      config,
      ideas: app.ideas,
      generator: app.generator,
      circuit: app.circuit,
      log: app.log,
      queue,
      events,
      control,
    });
    app.decorate('jobs', registry);
    app.decorate('jobEvents', events);
    app.decorate('instanceId', instanceId);
    const recover = async () => {
      try {
        await registry.recover();
      } catch (err) {
        app.log.warn(
          { err: (err as Error).message },
          'unfinished jobs not queued yet; trying again when Redis is back',
        );
      }
    };
    if (queue.shared) {
      await recover();
      stores.onReconnect(() => void recover());
    } else await registry.recover();
    app.addHook('preClose', async () => registry.shutdown(config.SHUTDOWN_GRACE_MS));
    app.addHook('onClose', async () => {
      await Promise.all([events.close(), control.close(), queue.close()]);
      await stores.close();
    });
  },
  { name: 'jobs', dependencies: ['config', 'db', 'gemini'] },
);
