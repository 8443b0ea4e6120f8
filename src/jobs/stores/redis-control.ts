import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { DAY_MS, sleep } from '../../time.js';
import type { CancelHandler, CancelOutcome, JobControl } from './control.js';

export interface RedisJobControlOptions {
  /** Commands that must not wait on Redis (a fail-fast client). */
  commands: Redis;
  /** A connection of its own for SUBSCRIBE; closed with the control. */
  subscriber: Redis;
  prefix: string;
  /** This instance, as the holder of the jobs it runs. */
  instanceId: string;
  /** How long an instance has to answer a cancel before the job counts as held by nobody. */
  answerTimeoutMs?: number;
  log: FastifyBaseLogger;
}

type Message =
  | { type: 'cancel'; jobId: string; reason: string; to: string; request: string; from: string }
  | { type: 'cancel-answer'; request: string; to: string; outcome: CancelOutcome }
  | { type: 'ended'; jobId: string };

/** How often a waiter looks again, in case an `ended` message was missed while Redis was away. */
const RECHECK_MS = 1000;
/** Keys of jobs in flight outlive any job; they only guard against an instance that died holding one. */
const IN_FLIGHT_TTL_MS = DAY_MS;

/** Deletes a key only while it still names this holder. KEYS: key. ARGV: holder. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type Scripted = Redis & { controlRelease(key: string, holder: string): Promise<number> };

/**
 * Job control across instances over Redis: which instance holds a job is a key,
 * a cancel request and its answer travel on one pub/sub channel, and a job's end
 * is announced on it too. Whoever waits for an end (`?wait=true`, cancel) waits
 * for that message, and looks again now and then so a message lost while Redis
 * was away does not leave it waiting.
 */
export class RedisJobControl implements JobControl {
  private readonly redis: Scripted;
  private readonly channel: string;
  private readonly held = new Map<string, CancelHandler>();
  private readonly answers = new Map<string, (outcome: CancelOutcome) => void>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly subscribed: Promise<unknown>;

  constructor(private readonly options: RedisJobControlOptions) {
    options.commands.defineCommand('controlRelease', { numberOfKeys: 1, lua: RELEASE });
    this.redis = options.commands as Scripted;
    this.channel = `${options.prefix}:control`;
    options.subscriber.on('message', (_channel: string, raw: string) => this.onMessage(raw));
    options.subscriber.on('error', () => undefined);
    this.subscribed = options.subscriber.subscribe(this.channel).catch((err: unknown) => {
      options.log.warn({ err: (err as Error).message }, 'job control: could not subscribe yet; Redis will be retried');
    });
  }

  private holderKey(jobId: string) {
    return `${this.options.prefix}:job:{${jobId}}:holder`;
  }

  private inFlightKey(jobId: string) {
    return `${this.options.prefix}:job:{${jobId}}:in-flight`;
  }

  private publish(message: Message): Promise<unknown> {
    return this.redis.publish(this.channel, JSON.stringify(message));
  }

  private onMessage(raw: string): void {
    let message: Message;
    try {
      message = JSON.parse(raw) as Message;
    } catch {
      return;
    }
    if (message.type === 'ended') {
      for (const wake of this.waiters.get(message.jobId) ?? []) wake();
    } else if (message.type === 'cancel' && message.to === this.options.instanceId) {
      const handler = this.held.get(message.jobId);
      const outcome = handler ? handler(message.reason) : 'unknown';
      void this.publish({ type: 'cancel-answer', request: message.request, to: message.from, outcome }).catch(
        () => undefined,
      );
    } else if (message.type === 'cancel-answer' && message.to === this.options.instanceId) {
      this.answers.get(message.request)?.(message.outcome);
    }
  }

  async hold(jobId: string, onCancel: CancelHandler): Promise<(ended?: boolean) => void> {
    this.held.set(jobId, onCancel);
    const holder = this.options.instanceId;
    await Promise.all([
      this.redis.set(this.holderKey(jobId), holder, 'PX', IN_FLIGHT_TTL_MS),
      this.redis.set(this.inFlightKey(jobId), holder, 'PX', IN_FLIGHT_TTL_MS),
    ]).catch((err: unknown) => {
      this.options.log.warn({ jobId, err: (err as Error).message }, 'job control: holder not recorded in Redis');
    });
    return (ended = true) => {
      if (this.held.get(jobId) === onCancel) this.held.delete(jobId);
      // A lost job's holder key is left alone: the instance that took it over has written its own (maybe this one, again).
      if (!ended) return;
      void this.redis.controlRelease(this.holderKey(jobId), holder).catch(() => undefined);
      void this.ended(jobId);
    };
  }

  async expect(jobId: string): Promise<void> {
    await this.redis.set(this.inFlightKey(jobId), 'queued', 'PX', IN_FLIGHT_TTL_MS);
  }

  async ended(jobId: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.redis.del(this.inFlightKey(jobId));
        await this.publish({ type: 'ended', jobId });
        return;
      } catch {
        await sleep(200 * (attempt + 1));
      }
    }
    this.options.log.warn({ jobId }, 'job control: could not announce the end of a job; waiters will look again');
  }

  async cancel(jobId: string, reason: string): Promise<CancelOutcome> {
    const local = this.held.get(jobId);
    if (local) return local(reason);
    const holder = await this.redis.get(this.holderKey(jobId));
    if (!holder) return 'unknown';
    await this.subscribed;
    const request = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<CancelOutcome>((resolve) => {
      this.answers.set(request, resolve);
      timer = setTimeout(() => resolve('unknown'), this.options.answerTimeoutMs ?? 2000);
    });
    try {
      await this.publish({ type: 'cancel', jobId, reason, to: holder, request, from: this.options.instanceId });
      return await answered;
    } finally {
      clearTimeout(timer);
      this.answers.delete(request);
    }
  }

  async waitForEnd(jobId: string, signal?: AbortSignal): Promise<boolean> {
    await this.subscribed;
    if (signal?.aborted) return false;
    return new Promise<boolean>((resolve) => {
      const waiters = this.waiters.get(jobId) ?? new Set<() => void>();
      this.waiters.set(jobId, waiters);
      let timer: NodeJS.Timeout | undefined;
      const finish = (ended: boolean) => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0 && this.waiters.get(jobId) === waiters) this.waiters.delete(jobId);
        signal?.removeEventListener('abort', onAbort);
        resolve(ended);
      };
      const wake = () => finish(true);
      const onAbort = () => finish(false);
      const look = async () => {
        try {
          if (!(await this.redis.exists(this.inFlightKey(jobId)))) return finish(true);
        } catch {
          // Redis is away: look again later
        }
        if (waiters.has(wake)) timer = setTimeout(() => void look(), RECHECK_MS);
      };
      waiters.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
      void look();
    });
  }

  async close(): Promise<void> {
    this.held.clear();
    for (const waiters of this.waiters.values()) for (const wake of waiters) wake();
    this.options.subscriber.disconnect();
  }
}
