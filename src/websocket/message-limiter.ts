export type MessageVerdict = 'accept' | 'warn' | 'drop' | 'close';

/** A window this many times over the limit is a flood, not a burst: close at once. */
const FLOOD_FACTOR = 10;
/** Over the limit in this many consecutive one-second windows is sustained abuse. */
const SUSTAINED_WINDOWS = 3;

/**
 * Client frames per socket in one-second windows. Frames beyond the limit are
 * dropped; the first dropped frame of a window is answered with one error (never
 * one per frame, which would let a client make the server send as much as it
 * receives); a flood, or excess in several windows in a row, closes the socket.
 */
export class MessageLimiter {
  private windowStart = Number.NEGATIVE_INFINITY;
  private count = 0;
  private overWindows = 0;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  take(): MessageVerdict {
    const now = this.now();
    if (now - this.windowStart >= 1000) {
      const adjacent = now - this.windowStart < 2000;
      this.overWindows = adjacent && this.count > this.perSecond ? this.overWindows + 1 : 0;
      this.windowStart = now;
      this.count = 0;
    }
    this.count++;
    if (this.count <= this.perSecond) return 'accept';
    if (this.count > this.perSecond * FLOOD_FACTOR || this.overWindows + 1 >= SUSTAINED_WINDOWS) return 'close';
    return this.count === this.perSecond + 1 ? 'warn' : 'drop';
  }
}
