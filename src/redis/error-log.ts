import type { FastifyBaseLogger } from 'fastify';

/** How often the same Redis error is logged again while it lasts. */
export const REPEAT_LOG_MS = 60_000;

/**
 * A warning for a Redis client's `error` events that does not flood the log: a client
 * reconnecting every 200 ms to a Redis that is away emits the same error each time. The
 * first error of a kind is logged at once; the same message again within REPEAT_LOG_MS
 * only counts, and the next one logged after that says how many were left out.
 */
export function redisErrorLog(log: Pick<FastifyBaseLogger, 'warn'>, what: string, now = Date.now) {
  let last = { message: '', at: -Infinity, left: 0 };
  return (err: Error): void => {
    const at = now();
    if (err.message === last.message && at - last.at < REPEAT_LOG_MS) {
      last.left++;
      return;
    }
    log.warn(
      { err: err.message, ...(last.left > 0 ? { repeated: last.left } : {}) },
      `${what}: Redis error (the same error is logged at most once a minute)`,
    );
    last = { message: err.message, at, left: 0 };
  };
}
