import type { JobEvent } from '../../schemas/jobs.js';
import type { JobStatus } from '../transitions.js';

/** A job as of its last event: what a subscriber gets before the live events. */
export interface EventLogSnapshot {
  status: JobStatus;
  /** seq of the last event included. */
  seq: number;
  /** The text written so far (the current attempt's; the whole spec once completed). */
  text: string;
}

/** How an event changes the text besides its `delta`, which is always appended. */
export type TextChange = { reset: true } | { replace: string };

export type EventListener = (event: JobEvent) => void;

export interface EventLogSubscription {
  snapshot: EventLogSnapshot;
  /** Retained events with afterSeq < seq <= snapshot.seq, oldest first; empty without afterSeq. */
  replay: JobEvent[];
  /** Stops the live events. A terminal event stops them by itself. */
  close(): void;
}

/**
 * Every job's numbered events (seq 1, 2, 3… without gaps) and its text so far.
 * One writer per job (the instance that runs it), readers anywhere. Methods are
 * async so that a shared implementation (a Redis stream per job) fits the same
 * contract as the in-memory one.
 */
export interface EventLog {
  /**
   * Starts a job's log, or resumes it at `start.seq` after a restart. A shared log
   * keeps what it already holds when that is further on. `writerToken` is the
   * lease this instance runs the job under: the job's appends from here are
   * refused once another instance holds it.
   */
  open(jobId: string, start: EventLogSnapshot, writerToken?: string): Promise<void>;
  /**
   * Appends the job's next event: its seq must be the last one + 1, so a second
   * writer is refused instead of interleaving. Live subscribers get it in order.
   * Rejects with a FencedError when another instance holds the job now.
   */
  append(event: JobEvent, text?: TextChange): Promise<void>;
  /** Retained events with seq > afterSeq, oldest first (older ones may have been trimmed). */
  after(jobId: string, afterSeq: number): Promise<JobEvent[]>;
  /** Status, last seq and text so far; undefined when the log does not hold the job. */
  snapshot(jobId: string): Promise<EventLogSnapshot | undefined>;
  /**
   * The snapshot, the replay after `afterSeq`, then live events with seq > snapshot.seq:
   * nothing missed, nothing twice. Undefined when the log does not hold the job.
   */
  subscribe(
    jobId: string,
    afterSeq: number | undefined,
    listener: EventListener,
  ): Promise<EventLogSubscription | undefined>;
  /** Forgets a finished job's log after `ms` (JOB_RETENTION_MS). */
  expire(jobId: string, ms: number): Promise<void>;
  close(): Promise<void>;
}

/** An append from an instance that no longer holds the job: it must stop writing and stop the job here. */
export class FencedError extends Error {
  constructor(jobId: string, why: string) {
    super(`Job ${jobId}: ${why}`);
    this.name = 'FencedError';
  }
}
