import type { FastifyBaseLogger } from 'fastify';
import type { IdeaRepository } from '../db/ideas-repository.js';
import type { NewIdeaRow } from '../db/schema.js';
import { sleep } from '../time.js';
import type { Job } from './job.js';

export type RowPatch = Partial<NewIdeaRow> & { generatorMeta?: Record<string, unknown> };

/** Tries of one row write, RETRY_MS * n apart, before the job is left to start-up recovery. */
const WRITE_ATTEMPTS = 5;
const RETRY_MS = 250;

/**
 * The durable mirror of each job in its ideas row. Writes to one row are
 * chained, so they land in the order they were made; the status, seq and
 * message always come from the job at the time of the write.
 */
export class JobRowMirror {
  private readonly writes = new Map<Job, Promise<void>>();

  constructor(
    private readonly ideas: IdeaRepository,
    private readonly log: FastifyBaseLogger,
  ) {}

  write(job: Job, patch: RowPatch): void {
    const previous = this.writes.get(job) ?? Promise.resolve();
    const write = previous.then(() => this.land(job, patch));
    this.writes.set(job, write);
    void write.then(() => {
      if (this.writes.get(job) === write && job.terminal) this.writes.delete(job);
    });
  }

  /** Resolves once every write made so far for the job has landed (or was given up). */
  landed(job: Job): Promise<void> {
    return this.writes.get(job) ?? Promise.resolve();
  }

  /** Like landed(), but waits at most maxWaitMs. */
  async settled(job: Job, maxWaitMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, maxWaitMs)));
    await Promise.race([this.landed(job), waited]);
    clearTimeout(timer);
  }

  /** Waits for every pending write. */
  async close(): Promise<void> {
    await Promise.all(this.writes.values());
  }

  private async land(job: Job, patch: RowPatch): Promise<void> {
    const { generatorMeta, ...columns } = patch;
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
        ...(generatorMeta ?? {}),
      },
    };
    // A locked or briefly unavailable database must not leave a finished job looking unfinished.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.ideas.update(job.ideaId, row);
        return;
      } catch (err) {
        if (attempt >= WRITE_ATTEMPTS) {
          const line = { err, jobId: job.jobId, status: row.status };
          this.log.error(line, 'could not persist job state; a restart will recover the job');
          return;
        }
        await sleep(RETRY_MS * attempt);
      }
    }
  }
}
