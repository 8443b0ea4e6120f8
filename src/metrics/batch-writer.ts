export interface BatchWriterOptions {
  /** Rows held in memory at most; beyond it new rows are dropped (and counted) rather than growing without end. */
  maxBuffered: number;
  /** A batch this large is written without waiting for the next flush. */
  flushAt: number;
  onError(err: unknown, rows: number): void;
}

/**
 * Collects rows in memory and writes them in batches, one batch at a time and
 * in order. A failed batch goes back to the front of the buffer while there is
 * room, so a short database outage loses nothing.
 */
export class BatchWriter<T> {
  private buffer: T[] = [];
  private writing: Promise<void> = Promise.resolve();
  dropped = 0;

  constructor(
    private readonly write: (rows: T[]) => Promise<void>,
    private readonly options: BatchWriterOptions,
  ) {}

  get pending(): number {
    return this.buffer.length;
  }

  push(row: T): void {
    if (this.buffer.length >= this.options.maxBuffered) {
      this.dropped++;
      return;
    }
    this.buffer.push(row);
    if (this.buffer.length === this.options.flushAt) void this.flush();
  }

  /** Writes everything buffered so far; resolves when it (and any earlier batch) is written or given up. */
  flush(): Promise<void> {
    if (this.buffer.length === 0) return this.writing;
    const rows = this.buffer;
    this.buffer = [];
    this.writing = this.writing.then(async () => {
      try {
        await this.write(rows);
      } catch (err) {
        const room = Math.max(0, this.options.maxBuffered - this.buffer.length);
        this.dropped += Math.max(0, rows.length - room);
        this.buffer = rows.slice(0, room).concat(this.buffer);
        this.options.onError(err, rows.length);
      }
    });
    return this.writing;
  }
}
