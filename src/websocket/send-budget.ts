/**
 * What one socket may make the server send in reply to its own requests, as a
 * token bucket of bytes: full at `perMinute`, refilled evenly over a minute. A
 * subscribe answers with the job's text so far (up to the output cap), so
 * without it a 71-byte frame repeated would pull megabytes per second out of the
 * server; with it, one socket gets at most `perMinute` bytes of snapshots and
 * replays a minute, and live events (sent once each) are not counted.
 */
export class SendBudget {
  private tokens: number;
  private at: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = perMinute;
    this.at = now();
  }

  /** Takes `bytes` if the socket has them; otherwise takes nothing and says how many ms until it will. */
  take(bytes: number): { ok: true } | { ok: false; retryAfterMs: number } {
    const now = this.now();
    this.tokens = Math.min(this.perMinute, this.tokens + ((now - this.at) * this.perMinute) / 60_000);
    this.at = now;
    if (bytes <= this.tokens) {
      this.tokens -= bytes;
      return { ok: true };
    }
    // A reply bigger than a whole minute's budget waits for a full bucket and then goes out alone.
    const needed = Math.min(bytes, this.perMinute) - this.tokens;
    if (needed <= 0) {
      this.tokens = 0;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil((needed * 60_000) / this.perMinute) };
  }
}
