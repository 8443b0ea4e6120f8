import { Redis } from 'ioredis';
import { round2 } from '../round.js';
import { closeRedis } from '../redis/fail-fast-client.js';

/**
 * PING over a connection of its own. ioredis keeps reconnecting in the
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

  /** Round-trip time of a PING in ms; throws when Redis does not answer within timeoutMs. */
  async ping(timeoutMs: number): Promise<number> {
    if (this.client.status === 'wait') this.client.connect().catch(() => {});
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(this.lastError ?? `no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.client.ping(), timeout]);
      this.lastError = undefined;
      return round2(performance.now() - started);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return closeRedis(this.client);
  }
}
