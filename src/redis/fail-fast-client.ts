import { Redis } from 'ioredis';

/**
 * A Redis connection for work that must never wait on Redis (a rate-limit check on every
 * request): while Redis is unreachable each command fails at once instead of queueing until
 * it is back (ioredis's defaults, measured here, made every request hang for more than 15 s),
 * and a command that gets no answer (a partitioned server) fails after a second. It keeps
 * reconnecting in the background, so work resumes by itself when Redis is back.
 * Not for BullMQ: its blocking commands need `maxRetriesPerRequest: null` and connections of their own.
 */
export function createFailFastRedis(url: string, connectionName: string): Redis {
  const client = new Redis(url, {
    connectionName,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    commandTimeout: 1000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  return client;
}

/** Resolves once the connection is up, or after timeoutMs either way: a start-up must not depend on Redis being there. */
export function waitUntilReady(client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs).unref();
    client.once('ready', onReady);
  });
}

/** QUIT, bounded: a Redis that is gone must not hold up a shutdown. */
export async function closeRedis(client: Redis, timeoutMs = 1000): Promise<void> {
  try {
    await Promise.race([client.quit(), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  } catch {
    // already closed, or Redis is unreachable: disconnect below either way
  }
  client.disconnect();
}
