import { Errors } from '../errors.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const WINDOW_PATTERN = '^[1-9][0-9]{0,3}[smhd]$';
export const MAX_WINDOW_MS = 30 * UNIT_MS.d;

/** "15m" -> 900000; at most 30 days (the longest retention worth asking about). */
export function parseWindow(window: string): number {
  const match = /^([1-9][0-9]{0,3})([smhd])$/.exec(window);
  if (!match) throw new Errors.InvalidWindow(`window must look like 30s, 15m, 6h or 7d (got "${window}")`);
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (ms > MAX_WINDOW_MS) throw new Errors.InvalidWindow(`window must be at most 30d (got "${window}")`);
  return ms;
}
