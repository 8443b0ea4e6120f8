import type { CancelHandler, CancelOutcome, JobControl } from './control.js';

interface Held {
  onCancel: CancelHandler;
  released: Promise<void>;
  release: () => void;
}

/** Job control inside one process: every job is held here, so a cancel is a function call. */
export class MemoryJobControl implements JobControl {
  private readonly held = new Map<string, Held>();

  async hold(jobId: string, onCancel: CancelHandler): Promise<(ended?: boolean) => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const entry: Held = { onCancel, released, release };
    this.held.set(jobId, entry);
    return () => {
      if (this.held.get(jobId) === entry) this.held.delete(jobId);
      entry.release();
    };
  }

  /** One process holds every job it accepts from the start: nothing to expect. */
  async expect(): Promise<void> {}

  async ended(): Promise<void> {}

  async cancel(jobId: string, reason: string): Promise<CancelOutcome> {
    const entry = this.held.get(jobId);
    return entry ? entry.onCancel(reason) : 'unknown';
  }

  async waitForEnd(jobId: string, signal?: AbortSignal): Promise<boolean> {
    const entry = this.held.get(jobId);
    if (!entry) return true;
    if (signal?.aborted) return false;
    return new Promise<boolean>((resolve) => {
      const onAbort = () => resolve(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      void entry.released.then(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      });
    });
  }

  async close(): Promise<void> {
    this.held.clear();
  }
}
