/** Figures meant for people (milliseconds, load averages) carry two decimals at most. */
export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
