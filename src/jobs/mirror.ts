import type { FastifyBaseLogger } from 'fastify';
import type { IdeaRepository } from '../db/ideas-repository.js';
import { databaseErrorMessage } from '../db/error-message.js';
import type { NewIdeaRow } from '../db/schema.js';
import { backoffDelay } from '../generators/backoff.js';
import { settleWithin, sleep } from '../time.js';
import type { Job } from './job.js';

export type RowPatch = Partial<NewIdeaRow> & { generatorMeta?: Record<string, unknown> };

/** Backoff between tries of a failing row write: full jitter, growing to the cap, then steady. */
const RETRY_BASE_MS = 250;
const RETRY_CAP_MS = 5_000;

const merge = (older: RowPatch, newer: RowPatch): RowPatch => ({
  ...older,
  ...newer,
  ...(older.generatorMeta || newer.generatorMeta
    ? { generatorMeta: { ...older.generatorMeta, ...newer.generatorMeta } }
    : {}),
});

/**
 * Keeps each job's ideas row in step with the job. Writes to one row never
 * overlap and land in the order they were made; patches made while a write is in
 * flight or failing merge into one pending patch, so an outage costs one patch
 * per job, not one per text flush. A failed write is retried with backoff until
 * it lands — a job that finished during a full disk or a read-only database is
 * stored once the fault clears, without a restart and without running again.
 * The status, seq and message always come from the job at the time of the write.
 */
export class JobRowMirror {
  private readonly pending = new Map<Job, RowPatch>();
  private readonly writers = new Map<Job, Promise<void>>();
  /** Jobs whose last write failed, with the error: the database cannot take writes. */
  private readonly failing = new Map<Job, string>();
  private readonly stopping = new AbortController();
  /** Per job run under a lease: asks whether this instance still holds it before each write. */
  private readonly fences = new WeakMap<Job, () => Promise<boolean>>();
  /** Jobs another instance holds now: their writes from here are dropped. */
  private readonly dropped = new WeakSet<Job>();

  constructor(
    private readonly ideas: IdeaRepository,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * Each write of the job's row first checks `holds()`; once it says no, the
   * write and every later one are dropped and `onLost` is called. While the check
   * cannot be made (Redis away) the write goes ahead: a finished job is not held
   * back by the queue's outage.
   */
  fence(job: Job, holds: () => Promise<boolean>, onLost: () => void): void {
    this.fences.set(job, async () => {
      let held = true;
      try {
        held = await holds();
      } catch {
        // cannot tell: write
      }
      if (!held) {
        this.drop(job);
        onLost();
      }
      return held;
    });
  }

  /** Writes nothing more for the job (another instance holds it). */
  drop(job: Job): void {
    this.dropped.add(job);
    this.pending.delete(job);
    this.failing.delete(job);
  }

  write(job: Job, patch: RowPatch): void {
    if (this.dropped.has(job)) return;
    const pending = this.pending.get(job);
    this.pending.set(job, pending ? merge(pending, patch) : patch);
    if (this.writers.has(job) || this.stopping.signal.aborted) return;
    const writer = this.drain(job).finally(() => this.writers.delete(job));
    this.writers.set(job, writer);
  }

  /** Resolves once every write made so far for the job has landed (or shutdown gave up on it). */
  landed(job: Job): Promise<void> {
    return this.writers.get(job) ?? Promise.resolve();
  }

  /** Like landed(), but waits at most maxWaitMs: a caller answers from memory while the write keeps trying. */
  settled(job: Job, maxWaitMs: number): Promise<void> {
    return settleWithin(this.landed(job), maxWaitMs);
  }

  /** How many job rows are waiting on a database that refuses writes, and why; undefined when writes land. */
  failure(): { jobs: number; error: string } | undefined {
    const [error] = this.failing.values();
    return error === undefined ? undefined : { jobs: this.failing.size, error };
  }

  /** Waits up to graceMs for pending writes, then gives up on the rest: start-up recovery takes those jobs. */
  async close(graceMs: number): Promise<void> {
    await Promise.all([...this.writers.keys()].map((job) => this.settled(job, graceMs)));
    this.stopping.abort();
    await Promise.all(this.writers.values());
  }

  private async drain(job: Job): Promise<void> {
    for (let patch = this.take(job); patch; patch = this.take(job)) await this.land(job, patch);
  }

  private take(job: Job): RowPatch | undefined {
    const patch = this.pending.get(job);
    this.pending.delete(job);
    return patch;
  }

  private async land(job: Job, first: RowPatch): Promise<void> {
    let patch = first;
    for (let retry = 1; ; retry++) {
      const { generatorMeta, ...columns } = patch;
      // The job's state as of this patch, taken before any wait: a job that ends meanwhile must not
      // lend its new status to a patch without the columns that go with it (the error, the spec).
      const row = {
        status: job.status,
        attempts: job.attempt,
        updatedAt: job.updatedAt,
        ...columns,
        metadata: {
          seq: job.seq,
          message: job.message,
          chunks: job.chunks,
          toolUses: job.toolUses,
          toolUseCount: job.toolUseCount,
          ...(generatorMeta ?? {}),
        },
      };
      const fence = this.fences.get(job);
      if (this.dropped.has(job) || (fence && !(await fence()))) return;
      try {
        await this.ideas.update(job.ideaId, row);
        if (this.failing.delete(job))
          this.log.info({ jobId: job.jobId, retries: retry - 1 }, 'job row written after the database recovered');
        return;
      } catch (err) {
        const why = databaseErrorMessage(err);
        if (!this.failing.has(job))
          this.log.error(
            { err: why, jobId: job.jobId, status: job.status },
            'could not write the job row; retrying until it lands',
          );
        this.failing.set(job, why);
        try {
          await sleep(backoffDelay(retry, RETRY_BASE_MS, RETRY_CAP_MS), this.stopping.signal);
        } catch {
          this.log.error(
            { jobId: job.jobId, status: job.status },
            'job row not written before shutdown; start-up recovery will take the job',
          );
          return;
        }
        // What was made meanwhile goes in the same write.
        const newer = this.take(job);
        if (newer) patch = merge(patch, newer);
      }
    }
  }
}
