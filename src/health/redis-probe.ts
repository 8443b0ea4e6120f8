import { Redis, ReplyError } from 'ioredis';
import { round2 } from '../round.js';
import { closeRedis } from '../redis/fail-fast-client.js';

/** The key the probe writes: shared by every instance, it only ever holds the last probe's time. */
const PROBE_KEY = 'idea2spec:health:probe';

/** Redis answers but refuses writes (out of memory under `noeviction`, a read-only replica): jobs cannot move. */
export class RedisRefusesWrites extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'RedisRefusesWrites';
  }
}

/**
 * PING and one small write over a connection of its own: a Redis out of memory
 * still answers PING while it refuses every job's queue entry and event. ioredis keeps reconnecting in the
 * background, so health recovers by itself when Redis comes back.
 */
export class RedisProbe {
  private readonly client: Redis;
  lastError: string | undefined;

  constructor(url: string) {
    this.client = new Redis(url, {
      lazyConnect: true,
      connectTimeout: 2000,
      // A command waits for the connection being made, but fails at once when that attempt fails.
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(times * 500, 5000),
    });
    // Without a listener ioredis prints every failed reconnect; the error is reported through health instead.
    this.client.on('error', (err: Error) => (this.lastError = err.message));
  }

  /**
   * Round-trip time of a PING in ms; throws when Redis does not answer within timeoutMs, and
   * RedisRefusesWrites when it answers but refuses a write.
   */
  async ping(timeoutMs: number): Promise<number> {
    if (this.client.status === 'wait') this.client.connect().catch(() => {});
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(this.lastError ?? `no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.client.ping(), timeout]);
      const latencyMs = round2(performance.now() - started);
      this.lastError = undefined;
      try {
        await Promise.race([this.client.set(PROBE_KEY, Date.now(), 'PX', 60_000), timeout]);
      } catch (err) {
        if (err instanceof ReplyError) throw new RedisRefusesWrites((err as Error).message);
        throw err;
      }
      return latencyMs;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return closeRedis(this.client);
  }
}
