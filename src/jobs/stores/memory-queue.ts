import PQueue from 'p-queue';
import type { AddOptions, JobQueue, JobRunner, QueueCounts } from './queue.js';

export interface MemoryQueueOptions {
  concurrency: number;
  /** Waiting jobs allowed once every slot is busy (JOB_QUEUE_LIMIT). */
  limit: number;
}

/** The queue of one process: p-queue with a concurrency limit. */
export class MemoryJobQueue implements JobQueue {
  readonly shared = false;
  private readonly queue: PQueue;
  private readonly queued = new Set<string>();
  private run: JobRunner | undefined;

  constructor(private readonly options: MemoryQueueOptions) {
    this.queue = new PQueue({ concurrency: options.concurrency });
  }

  process(run: JobRunner): void {
    this.run = run;
  }

  async hasRoom(): Promise<boolean> {
    return !(this.queue.pending >= this.options.concurrency && this.queue.size >= this.options.limit);
  }

  async add(jobId: string, { afterMs = 0 }: AddOptions = {}): Promise<void> {
    const run = this.run;
    if (!run) throw new Error('The job queue has no runner yet');
    if (this.queued.has(jobId)) return;
    this.queued.add(jobId);
    // A job's failure is its runner's business (it ends the job visibly); the queue only moves on.
    const enqueue = () =>
      void this.queue
        .add(() => run(jobId))
        .catch(() => undefined)
        .finally(() => this.queued.delete(jobId));
    if (afterMs > 0) setTimeout(enqueue, afterMs).unref();
    else enqueue();
  }

  /** A job waiting here is held by this process, so a cancel reaches it directly: nothing to take out. */
  async remove(): Promise<boolean> {
    return false;
  }

  counts(): QueueCounts {
    return { waiting: this.queue.size, running: this.queue.pending };
  }

  async stop(): Promise<void> {
    this.queue.pause();
    this.queue.clear();
  }

  async idle(): Promise<void> {
    await this.queue.onPendingZero();
  }

  async close(): Promise<void> {}
}
