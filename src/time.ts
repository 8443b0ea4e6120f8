/** One day in milliseconds. */
export const DAY_MS = 86_400_000;

/** Times are kept as epoch milliseconds and served as ISO 8601. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** For optional times: absent stays absent (the field is left out of the response). */
export function isoTimeOrUndefined(ms: number | null | undefined): string | undefined {
  return ms == null ? undefined : isoTime(ms);
}

/** Resolves after ms, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits for `work` to settle, but at most `ms`: a caller that must go on does not hang on it (the work goes on). */
export async function settleWithin(work: Promise<unknown> | undefined, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.resolve(work).catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}
