/** This instance's view of the queue, read synchronously by health and metrics. */
export interface QueueCounts {
  /** Jobs waiting for a runner slot. */
  waiting: number;
  /** Jobs holding a runner slot here. */
  running: number;
}

export type JobRunner = (jobId: string) => Promise<void>;

/**
 * The bounded queue in front of the runners: admission (JOB_QUEUE_LIMIT waiting
 * jobs once every slot is busy), concurrency (JOB_CONCURRENCY per instance), and
 * hand-back on shutdown. Jobs are queued by id; the durable row is what a runner
 * loads, so a shared queue (BullMQ, job id = job UUID) fits the same contract.
 */
export interface JobQueue {
  /** Hands queued jobs to `run`, at most `concurrency` at once in this process. */
  process(run: JobRunner): void;
  /** Whether one more job may be accepted now. */
  hasRoom(): Promise<boolean>;
  /**
   * Queues a job: one just accepted, or one a previous process left unfinished
   * (start-up recovery). Adding a job id the queue already holds does nothing.
   */
  add(jobId: string): Promise<void>;
  counts(): QueueCounts;
  /**
   * Stops handing out jobs and hands the waiting ones back: their rows stay
   * queued for the next start (or, with a shared queue, for another instance).
   */
  stop(): Promise<void>;
  /** Resolves once no `run` is in progress in this process. */
  idle(): Promise<void>;
}
