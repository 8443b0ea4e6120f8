/**
 * Exponential backoff with full jitter: the wait before retry n (n >= 1) is uniform
 * in [0, min(cap, base * 2^(n-1))], so many failing jobs do not retry in lockstep.
 */
export function backoffDelay(retry: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}
