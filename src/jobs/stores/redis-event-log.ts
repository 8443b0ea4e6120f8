import type { FastifyBaseLogger } from 'fastify';
import { ReplyError, type Redis } from 'ioredis';
import { backoffDelay } from '../../generators/backoff.js';
import type { JobEvent } from '../../schemas/jobs.js';
import { settleWithin, sleep } from '../../time.js';
import { isTerminal, type JobStatus } from '../transitions.js';
import {
  FencedError,
  type EventListener,
  type EventLog,
  type EventLogSnapshot,
  type EventLogSubscription,
  type TextChange,
} from './event-log.js';
import { MAX_RETAINED_EVENTS } from './memory-event-log.js';

export interface RedisEventLogOptions {
  /** Commands that must not wait on Redis: a fail-fast client (see src/redis/fail-fast-client.ts). */
  commands: Redis;
  /** A connection of its own for the blocking reader (XREAD BLOCK); closed with the log. */
  reader: Redis;
  /** Key prefix shared by every instance of the service. */
  prefix: string;
  /** The key of the queue's lock on a job, whose value is the token of the instance running it. */
  lockKey(jobId: string): string;
  /** How long an ended job's keys stay (JOB_RETENTION_MS). */
  retentionMs: number;
  log: FastifyBaseLogger;
}

/** How long the reader blocks before looking at its list of streams again (new ones wake it at once). */
const BLOCK_MS = 2000;
/** Backoff of an append that could not reach Redis: retried in order until it lands. */
const RETRY_BASE_MS = 100;
const RETRY_CAP_MS = 2000;
/**
 * Refusals Redis takes back by itself: out of memory under `noeviction` until memory is freed, a
 * script running too long, a dataset loading, a replica being promoted. An append refused with one
 * waits in memory and is retried in order like one that could not reach Redis: dropping it would
 * leave every later event refused with GAP, the job's end never logged, and its followers waiting.
 */
const TRANSIENT_REFUSALS = /^(OOM|BUSY|LOADING|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * Appends an event: refused when another instance holds the job's lock (or the
 * lock is gone while this writer had one), when the seq is not the next one
 * (STALE: already there; GAP: one is missing). A log whose state is gone (an
 * evicted or deleted key) takes the event that passed the lock check as its next
 * one: refusing it would refuse every later event too, the job's end included. Sets the state and text in the
 * same step, and on a terminal event starts the keys' expiry.
 * KEYS: state, text, events, lock. ARGV: token, seq, status, event JSON, text op,
 * replacement, delta, max stream length, retention ms, terminal flag.
 */
const APPEND = `
local lock = redis.call('GET', KEYS[4])
if ARGV[1] ~= '' then
  if lock ~= ARGV[1] then return redis.error_reply('FENCED the job is held by another instance now') end
elseif lock then
  return redis.error_reply('FENCED the job is running on an instance')
end
local held = redis.call('HGET', KEYS[1], 'seq')
local last = tonumber(held or '0')
local seq = tonumber(ARGV[2])
if seq <= last then return redis.error_reply('STALE event ' .. seq .. ' is not after ' .. last) end
if seq ~= last + 1 and held then return redis.error_reply('GAP event ' .. seq .. ' does not follow ' .. last) end
redis.call('HSET', KEYS[1], 'seq', seq, 'status', ARGV[3])
if ARGV[5] == 'reset' then redis.call('SET', KEYS[2], '') elseif ARGV[5] == 'replace' then redis.call('SET', KEYS[2], ARGV[6]) end
if ARGV[7] ~= '' then redis.call('APPEND', KEYS[2], ARGV[7]) end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '0-' .. seq, 'e', ARGV[4])
if ARGV[10] == '1' then
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[9]) end
end
return seq
`;

/** Opens a job's log at a seq, unless it already holds one as far or further. KEYS: state, text, events. ARGV: seq, status, text. */
const OPEN = `
for i = 1, 3 do redis.call('PERSIST', KEYS[i]) end
local last = tonumber(redis.call('HGET', KEYS[1], 'seq') or '-1')
if last >= tonumber(ARGV[1]) then return last end
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'status', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
return tonumber(ARGV[1])
`;

/** The state and the text in one read. KEYS: state, text. */
const SNAPSHOT = `
local state = redis.call('HMGET', KEYS[1], 'status', 'seq')
if not state[1] then return false end
return {state[1], state[2], redis.call('GET', KEYS[2]) or ''}
`;

interface Listener {
  /** The seq of the last event it got. */
  seq: number;
  fn: EventListener;
}

interface Watched {
  key: string;
  listeners: Set<Listener>;
}

/** The client with the scripts above defined on it. */
type Scripted = Redis & {
  eventLogAppend(...args: Array<string | number>): Promise<number>;
  eventLogOpen(...args: Array<string | number>): Promise<number>;
  eventLogSnapshot(...args: string[]): Promise<[string, string, string] | null>;
};

/**
 * The event log of a cluster: per job, a Redis stream of its events with ids
 * `0-<seq>`, a hash with its status and last seq, and its text so far, all
 * written together by one script that first checks the job's queue lock, so an
 * instance that lost the job cannot write. Each instance follows every stream it
 * has subscribers for with one blocking reader, whatever the number of sockets.
 */
export class RedisEventLog implements EventLog {
  private readonly redis: Scripted;
  private readonly reader: Redis;
  /** The lease token each job this instance writes for runs under. */
  private readonly writers = new Map<string, string>();
  /** Per job, the appends not yet landed, in order. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly watched = new Map<string, Watched>();
  private readerId: number | undefined;
  private reading = false;
  private wake: (() => void) | undefined;
  private closed = false;
  private readonly loop: Promise<void>;

  constructor(private readonly options: RedisEventLogOptions) {
    options.commands.defineCommand('eventLogAppend', { numberOfKeys: 4, lua: APPEND });
    options.commands.defineCommand('eventLogOpen', { numberOfKeys: 3, lua: OPEN });
    options.commands.defineCommand('eventLogSnapshot', { numberOfKeys: 2, lua: SNAPSHOT });
    this.redis = options.commands as Scripted;
    this.reader = options.reader;
    this.reader.on('ready', () => {
      this.reader.client('ID').then(
        (id) => (this.readerId = Number(id)),
        () => undefined,
      );
    });
    this.reader.on('error', () => undefined);
    this.loop = this.readLoop();
  }

  private keys(jobId: string) {
    const base = `${this.options.prefix}:job:{${jobId}}`;
    return { state: `${base}:state`, text: `${base}:text`, events: `${base}:events` };
  }

  async open(jobId: string, start: EventLogSnapshot, writerToken?: string): Promise<void> {
    const k = this.keys(jobId);
    if (writerToken !== undefined) this.writers.set(jobId, writerToken);
    else this.writers.delete(jobId);
    await this.redis.eventLogOpen(k.state, k.text, k.events, start.seq, start.status, start.text);
  }

  append(event: JobEvent, change?: TextChange): Promise<void> {
    const previous = this.chains.get(event.jobId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.land(event, change));
    const tail = next.catch(() => undefined);
    this.chains.set(event.jobId, tail);
    void tail.then(() => {
      if (this.chains.get(event.jobId) === tail) this.chains.delete(event.jobId);
    });
    return next;
  }

  /** One append, retried while Redis cannot be reached; refusals are final. */
  private async land(event: JobEvent, change?: TextChange): Promise<void> {
    const k = this.keys(event.jobId);
    const token = this.writers.get(event.jobId) ?? '';
    const terminal = isTerminal(event.status);
    const args = [
      k.state,
      k.text,
      k.events,
      this.options.lockKey(event.jobId),
      token,
      event.seq,
      event.status,
      JSON.stringify(event),
      change ? ('reset' in change ? 'reset' : 'replace') : '',
      change && 'replace' in change ? change.replace : '',
      event.delta ?? '',
      MAX_RETAINED_EVENTS,
      this.options.retentionMs,
      terminal ? '1' : '0',
    ];
    for (let retry = 0; ; retry++) {
      try {
        await this.redis.eventLogAppend(...args);
        if (terminal) this.writers.delete(event.jobId);
        return;
      } catch (err) {
        const message = String((err as Error).message);
        if (err instanceof ReplyError && !TRANSIENT_REFUSALS.test(message)) {
          // A retry after an answer that got lost: the first try landed.
          if (retry > 0 && message.startsWith('STALE')) return;
          if (message.startsWith('FENCED')) throw new FencedError(event.jobId, message.slice('FENCED '.length));
          throw new Error(`Job ${event.jobId}: ${message}`, { cause: err });
        }
        if (this.closed) throw err as Error;
        if (retry === 0)
          this.options.log.warn(
            { jobId: event.jobId, seq: event.seq, err: message },
            'job event not appended; retrying until Redis takes it',
          );
        await sleep(backoffDelay(retry + 1, RETRY_BASE_MS, RETRY_CAP_MS));
      }
    }
  }

  async after(jobId: string, afterSeq: number): Promise<JobEvent[]> {
    return this.range(jobId, afterSeq, '+');
  }

  private async range(jobId: string, afterSeq: number, end: string): Promise<JobEvent[]> {
    const entries = await this.redis.xrange(this.keys(jobId).events, `0-${Math.max(0, afterSeq) + 1}`, end);
    return entries.map(([, fields]) => JSON.parse(fields[1]) as JobEvent);
  }

  async snapshot(jobId: string): Promise<EventLogSnapshot | undefined> {
    const k = this.keys(jobId);
    const found = await this.redis.eventLogSnapshot(k.state, k.text);
    if (!found) return undefined;
    return { status: found[0] as JobStatus, seq: Number(found[1]), text: found[2] };
  }

  async subscribe(
    jobId: string,
    afterSeq: number | undefined,
    fn: EventListener,
  ): Promise<EventLogSubscription | undefined> {
    const snapshot = await this.snapshot(jobId);
    if (!snapshot) return undefined;
    const replay =
      afterSeq === undefined || afterSeq >= snapshot.seq ? [] : await this.range(jobId, afterSeq, `0-${snapshot.seq}`);
    if (isTerminal(snapshot.status)) return { snapshot, replay, close: () => {} };
    const listener: Listener = { seq: snapshot.seq, fn };
    let watched = this.watched.get(jobId);
    if (!watched) {
      watched = { key: this.keys(jobId).events, listeners: new Set() };
      this.watched.set(jobId, watched);
    }
    watched.listeners.add(listener);
    this.nudge();
    const entry = watched;
    return {
      snapshot,
      replay,
      close: () => {
        entry.listeners.delete(listener);
        if (entry.listeners.size === 0 && this.watched.get(jobId) === entry) this.watched.delete(jobId);
      },
    };
  }

  /** A new stream to follow: the reader starts over with it at once instead of after its current block. */
  private nudge(): void {
    if (this.wake) {
      this.wake();
      this.wake = undefined;
    } else if (this.reading && this.readerId !== undefined) {
      this.redis.client('UNBLOCK', this.readerId).catch(() => undefined);
    }
  }

  private async readLoop(): Promise<void> {
    while (!this.closed) {
      if (this.watched.size === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      // Each stream is read from its furthest-behind listener on; the others skip what they have.
      const batch = [...this.watched.values()].map((w) => ({
        w,
        from: Math.min(...[...w.listeners].map((l) => l.seq)),
      }));
      let result: Array<[string, Array<[string, string[]]>]> | null;
      this.reading = true;
      try {
        result = (await this.reader.xread(
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          ...batch.map((b) => b.w.key),
          ...batch.map((b) => `0-${b.from}`),
        )) as Array<[string, Array<[string, string[]]>]> | null;
      } catch (err) {
        if (this.closed) return;
        this.options.log.warn({ err: (err as Error).message }, 'job event reader: Redis read failed; retrying');
        await sleep(500);
        continue;
      } finally {
        this.reading = false;
      }
      for (const [key, entries] of result ?? []) {
        const read = batch.find((b) => b.w.key === key);
        if (read) this.deliver(read.w, read.from, entries);
      }
    }
  }

  private deliver(watched: Watched, from: number, entries: Array<[string, string[]]>): void {
    for (const [, fields] of entries) {
      const event = JSON.parse(fields[1]) as JobEvent;
      for (const listener of watched.listeners) {
        // A listener that joined behind this read waits for the next one, which starts where it is.
        if (listener.seq < from || event.seq <= listener.seq) continue;
        listener.seq = event.seq;
        listener.fn(event);
        if (isTerminal(event.status)) watched.listeners.delete(listener);
      }
    }
    if (watched.listeners.size === 0) {
      for (const [jobId, w] of this.watched) if (w === watched) this.watched.delete(jobId);
    }
  }

  async expire(jobId: string, ms: number): Promise<void> {
    const k = this.keys(jobId);
    const keys = [k.state, k.text, k.events];
    await Promise.all(keys.map((key) => (ms <= 0 ? this.redis.del(key) : this.redis.pexpire(key, ms))));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    // Appends still on their way get a moment to land.
    await settleWithin(Promise.allSettled([...this.chains.values()]), 1000);
    this.reader.disconnect();
    await this.loop;
    this.watched.clear();
  }
}
