/**
 * The client's timers, kept in one place so `client.close()` can clear them all.
 * They are deliberately not unref'd: in Node, a script awaiting a job that is
 * being polled has nothing else keeping its event loop alive.
 */
export class Timers {
  private readonly pending = new Set<ReturnType<typeof setTimeout>>();

  after(ms: number, fn: () => void): () => void {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      fn();
    }, ms);
    this.pending.add(timer);
    return () => {
      clearTimeout(timer);
      this.pending.delete(timer);
    };
  }

  /** Resolves after ms; rejects with the signal's reason once it aborts. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        cancel();
        reject(signal?.reason);
      };
      const cancel = this.after(ms, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  clear(): void {
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }
}

/**
 * Exponential backoff with jitter for retry n (n >= 1): uniform in [ceiling/2, ceiling],
 * ceiling = min(cap, base * 2^(n-1)). The floor keeps a flapping server from being hit in a tight loop.
 */
export function jitteredBackoff(
  retry: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
