import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  CircuitBreaker,
  CircuitOpenError,
  type CircuitBreakerOptions,
  type CircuitCounts,
} from '../generators/circuit-breaker.js';
import { closeRedis, createFailFastRedis, waitUntilReady } from '../redis/fail-fast-client.js';

const KEY = 'idea2spec:circuit';
const PROBE_KEY = 'idea2spec:circuit:probe';
const CHANNEL = 'idea2spec:circuit';

/** How often each instance reads the shared state even without a message (a missed one, a Redis restart). */
const REFRESH_MS = 2000;
/** The probe lock's lifetime, renewed while the probe runs: a crashed prober's lock lapses after this. */
const PROBE_LOCK_MS = 15_000;

// Every script reads and answers the counts as [decision, failures, openedAt or ''].
const READ = `
local v = redis.call('HMGET', KEYS[1], 'failures', 'openedAt')
local failures = tonumber(v[1]) or 0
local openedAt = tonumber(v[2])
`;
const CHANGED = `redis.call('PUBLISH', ARGV[1], 'changed')`;

/** ARGV: channel, now, cooldownMs, token, lockMs. Takes the probe lock when the cool-down is over and nobody holds it. */
const ADMIT = `${READ}
if not openedAt then return {'closed', failures, ''} end
if tonumber(ARGV[2]) < openedAt + tonumber(ARGV[3]) then return {'open', failures, openedAt} end
if redis.call('SET', KEYS[2], ARGV[4], 'NX', 'PX', ARGV[5]) then return {'probe', failures, openedAt} end
return {'busy', failures, openedAt}`;

/** ARGV: channel, token ('' when not the probe). Closes and resets; releases the probe lock if still ours. */
const SUCCESS = `${READ}
if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
if failures ~= 0 or openedAt then
  redis.call('HSET', KEYS[1], 'failures', 0)
  redis.call('HDEL', KEYS[1], 'openedAt')
  ${CHANGED}
end
return {'closed', 0, ''}`;

/** ARGV: channel, token ('' when not the probe), now, threshold. The same rule as afterFailure(). */
const FAILURE = `${READ}
failures = failures + 1
local probe = ARGV[2] ~= ''
if probe and redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
if probe or (not openedAt and failures >= tonumber(ARGV[4])) then openedAt = tonumber(ARGV[3]) end
redis.call('HSET', KEYS[1], 'failures', failures)
if openedAt then redis.call('HSET', KEYS[1], 'openedAt', openedAt) end
${CHANGED}
return {'counted', failures, openedAt or ''}`;

/** ARGV: token. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
/** ARGV: token, lockMs. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

type Reply = [string, number, number | ''];

export interface SharedCircuitBreakerOptions extends CircuitBreakerOptions {
  /** REDIS_URL. */
  url: string;
  /** Told when Redis cannot be reached and this instance counts on its own meanwhile. */
  onRedisError?(err: Error): void;
}

/**
 * The circuit breaker of cluster mode: the count and the opening live in Redis, so a
 * generator that fails on one instance is refused on all of them, one probe runs at a
 * time across the cluster (a lock taken with SET NX PX, renewed while it runs), and a
 * success anywhere closes it everywhere. Each transition is one Lua script; every
 * change is published, and each instance keeps the counts it last read (refreshed on
 * every message and every couple of seconds) so `state()` stays synchronous.
 * While Redis is unreachable nothing waits on it: each instance counts on its own, as
 * the in-process breaker does, and reads the shared state again once Redis is back.
 */
export class SharedCircuitBreaker extends CircuitBreaker {
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly timer: NodeJS.Timeout;
  private probeToken: string | undefined;
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(private readonly shared: SharedCircuitBreakerOptions) {
    super(shared);
    const onError = (err: Error) => shared.onRedisError?.(err);
    this.redis = createFailFastRedis(shared.url, 'idea2spec-circuit');
    this.redis.on('error', onError);
    // Read again whenever the connection is (re)made: a restarted Redis may have lost the state.
    this.redis.on('ready', () => this.refresh());
    // The subscription is never on a request's path, so it may queue until Redis is there; ioredis renews it after a reconnect.
    this.subscriber = this.redis.duplicate({
      connectionName: 'idea2spec-circuit-events',
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
    });
    this.subscriber.on('error', onError);
    this.subscriber.on('message', () => this.refresh());
    this.subscriber.subscribe(CHANNEL).catch(onError);
    this.timer = setInterval(() => this.refresh(), REFRESH_MS).unref();
  }

  /**
   * Resolves once connected to Redis (true), or after timeoutMs either way: until then this
   * instance counts on its own. The service does not wait for it; a test that needs the shared view from the first call does.
   */
  connected(timeoutMs: number): Promise<boolean> {
    return waitUntilReady(this.redis, timeoutMs);
  }

  /**
   * Reads the shared counts. Replies on one connection arrive in the order Redis ran the
   * commands, and every change this instance makes goes through the same connection, so
   * the counts taken never go back in time.
   */
  private refresh(): void {
    this.redis.hmget(KEY, 'failures', 'openedAt').then(
      ([failures, openedAt]) =>
        this.set({ failures: Number(failures ?? 0), openedAt: openedAt === null ? undefined : Number(openedAt) }),
      () => {
        // unreachable: keep the counts this instance has (the error listener reports why)
      },
    );
  }

  private async script(lua: string, ...args: (string | number)[]): Promise<CircuitCounts & { decision: string }> {
    const [decision, failures, openedAt] = (await this.redis.eval(lua, 2, KEY, PROBE_KEY, CHANNEL, ...args)) as Reply;
    const counts = { failures: Number(failures), openedAt: openedAt === '' ? undefined : Number(openedAt) };
    this.set(counts);
    return { decision, ...counts };
  }

  protected override async admit(): Promise<boolean> {
    // Refuses at once when this instance knows the circuit is open or runs the probe itself.
    if (!this.admitHere()) return false;
    // Half-open as far as this instance knows: the probe lock says whether it is the cluster's probe.
    const token = randomUUID();
    let decision: string;
    try {
      ({ decision } = await this.script(ADMIT, this.now(), this.options.cooldownMs, token, PROBE_LOCK_MS));
    } catch {
      return true; // Redis unreachable: this instance's own probe, as in one process
    }
    if (decision === 'probe') {
      this.holdProbeLock(token);
      return true;
    }
    this.probing = false;
    if (decision === 'closed') return false; // closed elsewhere meanwhile
    throw new CircuitOpenError(this.state());
  }

  private holdProbeLock(token: string): void {
    this.probeToken = token;
    this.renewTimer = setInterval(() => {
      this.redis.eval(RENEW, 1, PROBE_KEY, token, PROBE_LOCK_MS).catch(() => {});
    }, PROBE_LOCK_MS / 3).unref();
  }

  /** The probe lock's token, if this call is the cluster's probe ('' otherwise); stops renewing it. */
  private releaseToken(probe: boolean): string {
    if (!probe) return '';
    const token = this.probeToken ?? '';
    clearInterval(this.renewTimer);
    this.probeToken = undefined;
    return token;
  }

  protected override async succeeded(probe: boolean): Promise<void> {
    const token = this.releaseToken(probe);
    try {
      await this.script(SUCCESS, token);
    } catch {
      await super.succeeded(probe);
    }
  }

  protected override async failed(probe: boolean): Promise<void> {
    const token = this.releaseToken(probe);
    try {
      // A probe whose lock was lost (Redis restarted) still failed as the probe: it opens the circuit again.
      await this.script(FAILURE, token || (probe ? 'lost' : ''), this.now(), this.options.threshold);
    } catch {
      await super.failed(probe);
    }
  }

  /** A probe that proved nothing (a non-retryable error, a cancel) hands the lock on: the next attempt anywhere probes. */
  protected override probeEnded(): void {
    super.probeEnded();
    const token = this.releaseToken(true);
    if (token) this.redis.eval(RELEASE, 1, PROBE_KEY, token).catch(() => {});
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.renewTimer);
    await Promise.all([closeRedis(this.redis), closeRedis(this.subscriber)]);
  }
}
