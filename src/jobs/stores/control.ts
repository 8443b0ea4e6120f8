/**
 * What a cancel request found: the job was stopped, it had already ended, or no
 * instance holds it (then its row is all there is).
 */
export type CancelOutcome = 'cancelled' | 'ended' | 'unknown';

/** Called where the job is held, whichever instance the request came to. */
export type CancelHandler = (reason: string) => CancelOutcome;

/**
 * Job control across instances: cancel a job wherever it is queued or runs, and
 * wait for a job's end from anywhere. In one process it is a map; in cluster
 * mode a pub/sub channel carries the requests and the ends.
 */
export interface JobControl {
  /**
   * This instance holds the job (queued or running here): cancel requests for it
   * reach `onCancel`. The returned release is called once the job has ended and
   * its row is written; that is what `waitForEnd` waits for. Released with
   * `false`, the job did not end here (its lease was lost to another instance).
   */
  hold(jobId: string, onCancel: CancelHandler): Promise<(ended?: boolean) => void>;
  /**
   * The job was accepted and is on its way to a runner that may be on another
   * instance: `waitForEnd` waits for it from now on.
   */
  expect(jobId: string): Promise<void>;
  /** A job nobody held has ended (cancelled while it waited): whoever waits for it stops waiting. */
  ended(jobId: string): Promise<void>;
  /** Asks whoever holds the job to cancel it. */
  cancel(jobId: string, reason: string): Promise<CancelOutcome>;
  /**
   * Resolves true once the held job is released (at once when nobody holds it),
   * false when the signal aborts first.
   */
  waitForEnd(jobId: string, signal?: AbortSignal): Promise<boolean>;
  close(): Promise<void>;
}
