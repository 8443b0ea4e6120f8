/** This instance's view of the queue, read synchronously by health and metrics. */
export interface QueueCounts {
  /** Jobs waiting for a runner slot. */
  waiting: number;
  /** Jobs holding a runner slot here. */
  running: number;
  /** With a shared queue: jobs running on any instance. */
  clusterRunning?: number;
}

/**
 * What a shared queue gives the runner with each job: proof that this instance
 * holds it. `lost` aborts once the queue's lock on the job lapsed (another
 * instance may take it); `holds()` asks the queue whether the lock is still ours.
 */
export interface JobLease {
  token: string;
  lost: AbortSignal;
  holds(): Promise<boolean>;
}

/**
 * How a run ended: done (the job ended, or there was nothing to run), handed
 * back (shutdown: the job goes back to the queue, its attempt not counted), or
 * lost (the lease lapsed and another instance may run it: write nothing more).
 */
export type RunOutcome = 'done' | 'handed-back' | 'lost';

export interface AddOptions {
  /** Held this long before a runner may take it (it is in the queue at once: adding it again does nothing). */
  afterMs?: number;
}

export type JobRunner = (jobId: string, lease?: JobLease) => Promise<RunOutcome>;

/**
 * The bounded queue in front of the runners: admission (JOB_QUEUE_LIMIT waiting
 * jobs once every slot is busy), concurrency (JOB_CONCURRENCY per instance), and
 * hand-back on shutdown. Jobs are queued by id; the durable row is what a runner
 * loads, so a shared queue (BullMQ, job id = job UUID) fits the same contract.
 */
export interface JobQueue {
  /** True when other instances share the queue (cluster mode): jobs accepted here may run elsewhere. */
  readonly shared: boolean;
  /** Hands queued jobs to `run`, at most `concurrency` at once in this process. */
  process(run: JobRunner): void;
  /** Whether one more job may be accepted now. */
  hasRoom(): Promise<boolean>;
  /**
   * Queues a job: one just accepted, or one a previous process left unfinished
   * (start-up recovery). Adding a job id the queue already holds does nothing.
   * With `afterMs`, the job is held that long before a runner may take it.
   */
  add(jobId: string, options?: AddOptions): Promise<void>;
  /** Takes a job that no runner holds yet out of the queue; false when it was not waiting. */
  remove(jobId: string): Promise<boolean>;
  counts(): QueueCounts;
  /**
   * Stops handing out jobs and hands the waiting ones back: their rows stay
   * queued for the next start (or, with a shared queue, for another instance).
   */
  stop(): Promise<void>;
  /** Resolves once no `run` is in progress in this process. */
  idle(): Promise<void>;
  /** Lets go of connections (after idle). */
  close(): Promise<void>;
}
