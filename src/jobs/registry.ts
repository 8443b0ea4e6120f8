import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { IdeaRepository } from '../db/ideas-repository.js';
import type { IdeaRow, NewIdeaRow } from '../db/schema.js';
import { Errors } from '../errors.js';
import { backoffDelay } from '../generators/backoff.js';
import { sleep } from '../time.js';
import { CancelledError, GeneratorError } from '../generators/errors.js';
import type { CircuitBreaker } from '../generators/circuit-breaker.js';
import type { Generator } from '../generators/generator.js';
import type { TemplateName } from '../generators/templates.js';
import type { JobError, JobEvent, JobSnapshot } from '../schemas/jobs.js';
import { Job, lastEventFromRow, rowSeq, snapshotFromRow, type JobTimes } from './job.js';
import type { JobControl } from './stores/control.js';
import type { EventLog, TextChange } from './stores/event-log.js';
import type { JobQueue } from './stores/queue.js';
import { isTerminal, type TerminalStatus } from './transitions.js';

export interface SubmitInput {
  idea: string;
  template: TemplateName;
  model?: string;
  idempotencyKey?: string;
}

export interface SubmitResult {
  jobId: string;
  ideaId: number;
  status: JobSnapshot['status'];
  created: boolean;
}

export interface RegistryDeps {
  config: Config;
  ideas: IdeaRepository;
  generator: Generator;
  /** While it is open, new jobs are refused instead of being accepted only to fail fast. */
  circuit?: CircuitBreaker;
  log: FastifyBaseLogger;
  /** The shared-state seams, chosen by the jobs plugin. */
  queue: JobQueue;
  events: EventLog;
  control: JobControl;
}

/** Sees every event of the jobs this process runs, with the job's times (metrics). */
export type JobObserver = (event: JobEvent, job: JobTimes) => void;

/** Tries of one row write, PERSIST_RETRY_MS * n apart, before the job is left to start-up recovery. */
const PERSIST_ATTEMPTS = 5;
const PERSIST_RETRY_MS = 250;

/** How often streamed text is written to the idea row while a job runs. */
const TEXT_FLUSH_MS = 1000;

/**
 * The job registry: admission (bounded queue), execution with retries, the
 * durable mirror in the ideas row, cancellation, recovery and shutdown.
 */
export class JobRegistry {
  private readonly jobs = new Map<string, Job>();
  private readonly running = new Set<Job>();
  private readonly interrupted = new WeakSet<Job>();
  private readonly writes = new Map<Job, Promise<void>>();
  /** Each held job's release in job control, called once it has ended and its row is written. */
  private readonly releases = new Map<Job, Promise<() => void>>();
  private closing = false;
  private readonly counters = { completed: 0, failed: 0, cancelled: 0 };
  private readonly observers = new Set<JobObserver>();

  constructor(private readonly deps: RegistryDeps) {
    deps.queue.process((jobId) => this.runQueued(jobId));
  }

  get stats() {
    return { queued: this.deps.queue.counts().waiting, running: this.running.size, retained: this.jobs.size, ...this.counters };
  }

  async submit(input: SubmitInput): Promise<SubmitResult> {
    if (this.closing) throw new Errors.ShuttingDown();
    if (input.idempotencyKey !== undefined) {
      const existing = await this.deps.ideas.findByIdempotencyKey(input.idempotencyKey);
      if (existing) return this.replay(existing, input);
    }
    if (!(await this.deps.queue.hasRoom())) throw new Errors.QueueFull(this.deps.queue.counts().waiting);
    const circuit = this.deps.circuit?.state();
    if (circuit?.state === 'open') throw new Errors.GeneratorUnavailable(circuit.nextProbeAt);

    const now = Date.now();
    const model = input.model ?? (this.deps.generator.name === 'gemini' ? this.deps.config.GEMINI_MODEL : undefined);
    const row: NewIdeaRow = {
      jobId: randomUUID(),
      userInput: input.idea,
      status: 'queued',
      template: input.template,
      generator: this.deps.generator.name,
      model: model ?? null,
      idempotencyKey: input.idempotencyKey ?? null,
      metadata: {},
      createdAt: now,
      updatedAt: now,
    };
    let inserted: IdeaRow;
    try {
      inserted = await this.deps.ideas.insert(row);
    } catch (err) {
      // Two requests with one key raced: the loser answers with the winner's job.
      const existing = input.idempotencyKey !== undefined ? await this.deps.ideas.findByIdempotencyKey(input.idempotencyKey) : undefined;
      if (existing) return this.replay(existing, input);
      throw err;
    }
    const job = await this.track(inserted, 0);
    job.emit('Queued');
    this.persist(job, {});
    await this.deps.queue.add(job.jobId);
    return { jobId: job.jobId, ideaId: job.ideaId, status: job.status, created: true };
  }

  private replay(existing: IdeaRow, input: SubmitInput): SubmitResult {
    const sameRequest = existing.userInput === input.idea && existing.template === input.template && (input.model === undefined || existing.model === input.model);
    if (!sameRequest) throw new Errors.IdempotencyConflict(input.idempotencyKey);
    const live = this.jobs.get(existing.jobId);
    return { jobId: existing.jobId, ideaId: existing.id, status: live?.status ?? existing.status, created: false };
  }

  async snapshot(jobId: string): Promise<JobSnapshot | undefined> {
    const live = this.jobs.get(jobId);
    if (live) return live.snapshot();
    const row = await this.deps.ideas.findByJobId(jobId);
    return row ? snapshotFromRow(row) : undefined;
  }

  /** The job's last event: from the event log while it holds the job, else rebuilt from the row. */
  async lastEvent(jobId: string): Promise<JobEvent | undefined> {
    const logged = await this.deps.events.snapshot(jobId);
    const [last] = logged ? await this.deps.events.after(jobId, logged.seq - 1) : [];
    if (last) return last;
    const row = await this.deps.ideas.findByJobId(jobId);
    return row ? lastEventFromRow(row) : undefined;
  }

  /**
   * Cancels the job wherever it is held (job control) and answers once its row
   * says so; a job no instance holds is cancelled in its row directly.
   */
  async cancel(jobId: string, reason = 'Cancelled by request'): Promise<JobSnapshot> {
    const outcome = await this.deps.control.cancel(jobId, reason);
    if (outcome !== 'unknown') {
      if (outcome === 'cancelled') await this.deps.control.waitForEnd(jobId);
      const snapshot = await this.snapshot(jobId);
      if (!snapshot) throw new Errors.JobNotFound(jobId);
      if (outcome === 'ended') throw new Errors.JobAlreadyFinished(jobId, snapshot.status);
      return snapshot;
    }
    const live = this.jobs.get(jobId);
    if (live?.terminal) throw new Errors.JobAlreadyFinished(jobId, live.status);
    const row = await this.deps.ideas.findByJobId(jobId);
    if (!row) throw new Errors.JobNotFound(jobId);
    if (isTerminal(row.status)) throw new Errors.JobAlreadyFinished(jobId, row.status);
    const now = Date.now();
    await this.deps.ideas.update(row.id, { status: 'cancelled', updatedAt: now, completedAt: now });
    return snapshotFromRow({ ...row, status: 'cancelled', updatedAt: now, completedAt: now });
  }

  /** Cancels the job unless it has ended; false when there was nothing left to stop. */
  async cancelIfRunning(jobId: string, reason: string): Promise<boolean> {
    try {
      await this.cancel(jobId, reason);
      return true;
    } catch (err) {
      if (err instanceof Errors.JobAlreadyFinished) return false;
      throw err;
    }
  }

  /** Resolves once the job has ended and its row is written (at once if no instance holds it); false if the signal aborted first. */
  waitForEnd(jobId: string, signal?: AbortSignal): Promise<boolean> {
    return this.deps.control.waitForEnd(jobId, signal);
  }

  /**
   * Jobs a previous process left unfinished: each is queued again with its
   * history kept, or failed with INTERRUPTED when it has used all its attempts.
   */
  async recover(): Promise<{ requeued: number; failed: number }> {
    const rows = await this.deps.ideas.listUnfinished();
    let requeued = 0;
    let failed = 0;
    for (const row of rows) {
      if (this.jobs.has(row.jobId)) continue;
      const job = await this.track(row, rowSeq(row));
      if (row.status !== 'queued' && row.attempts >= this.deps.config.GEMINI_MAX_ATTEMPTS) {
        this.finish(job, 'failed', 'Interrupted by a restart with no attempts left', {
          code: 'INTERRUPTED',
          message: `The service stopped while this job ran, and it had used all ${this.deps.config.GEMINI_MAX_ATTEMPTS} attempts`,
          retryable: false,
        });
        failed++;
        continue;
      }
      job.emit('Queued again after a restart');
      this.persist(job, {});
      await this.deps.queue.add(job.jobId);
      requeued++;
    }
    if (rows.length > 0) this.deps.log.info({ requeued, failed }, 'recovered unfinished jobs');
    return { requeued, failed };
  }

  /**
   * Stops taking jobs, lets running ones finish within graceMs, then interrupts
   * the rest and leaves them queued in the database for the next start.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.closing = true;
    await this.deps.queue.stop();
    const running = [...this.running];
    if (running.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([Promise.all(running.map((j) => j.whenEnded())), graceOver]);
      clearTimeout(timer);
      for (const job of this.running) {
        this.interrupted.add(job);
        job.abort.abort(new CancelledError('Service shutting down'));
      }
      await this.deps.queue.idle();
    }
    await Promise.all(this.writes.values());
  }

  /** Sees every event of the jobs this process holds (metrics). */
  observe(observer: JobObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Holds a job in this process: its events go to the event log and the observers, cancels reach it. */
  private async track(row: IdeaRow, seq: number): Promise<Job> {
    const { events, control, log } = this.deps;
    const job: Job = new Job(row, seq, (event: JobEvent, text?: TextChange) => {
      events.append(event, text).catch((err: unknown) => log.error({ err, jobId: event.jobId, seq: event.seq }, 'could not append a job event'));
      for (const observer of this.observers) observer(event, job);
    });
    await events.open(job.jobId, { status: job.status, seq, text: '' });
    this.jobs.set(job.jobId, job);
    this.releases.set(job, control.hold(job.jobId, (reason) => this.cancelHeld(job, reason)));
    return job;
  }

  /** A cancel request for a job held here, from whichever instance it came. */
  private cancelHeld(job: Job, reason: string): 'cancelled' | 'ended' {
    if (job.terminal) return 'ended';
    job.abort.abort(new CancelledError(reason));
    this.finish(job, 'cancelled', reason);
    return 'cancelled';
  }

  /** What the queue hands out: a job held here, or (shared queue) one accepted elsewhere, loaded from its row. */
  private async runQueued(jobId: string): Promise<void> {
    let job = this.jobs.get(jobId);
    if (!job) {
      const row = await this.deps.ideas.findByJobId(jobId);
      if (!row || isTerminal(row.status)) return;
      job = await this.track(row, rowSeq(row));
    }
    await this.execute(job);
  }

  private async execute(job: Job): Promise<void> {
    if (job.terminal || this.closing) return;
    const { config, generator } = this.deps;
    const log = this.deps.log.child({ jobId: job.jobId, ideaId: job.ideaId });
    this.running.add(job);
    const flushTimer = setInterval(() => this.persistText(job), TEXT_FLUSH_MS);
    flushTimer.unref();
    try {
      job.startedAt ??= Date.now();
      job.transition('started', 'Starting the generator');
      this.persist(job, { startedAt: job.startedAt });
      for (let attempt = job.attempt + 1; ; attempt++) {
        job.attempt = attempt;
        job.resetText();
        const message = `Generating (attempt ${attempt} of ${config.GEMINI_MAX_ATTEMPTS})`;
        if (job.status === 'processing') job.emit(message);
        else job.transition('processing', message);
        this.persist(job, { attempts: attempt, generatedSpec: '', outputLength: 0 });
        log.info({ attempt, generator: generator.name }, 'attempt started');
        try {
          const output = await generator.run({
            idea: job.idea,
            template: job.template as TemplateName,
            model: job.model,
            attempt,
            signal: job.abort.signal,
            log,
            onDelta: (delta) => {
              if (!job.terminal && delta.length > 0) job.appendDelta(delta);
            },
            onToolUse: (tool) => {
              job.toolUses.push(tool);
              log.warn({ tool: tool.name }, 'generator asked to use a tool; tools are not auto-approved');
            },
          });
          if (job.terminal) return;
          job.setText(output.text);
          const processingTimeMs = Date.now() - job.startedAt;
          this.finish(job, 'completed', 'Specification ready', undefined, { outputLength: output.text.length, processingTimeMs }, output.metadata);
          log.info({ attempt, processingTimeMs, outputLength: output.text.length }, 'job completed');
          return;
        } catch (err) {
          if (job.terminal) return;
          if (this.interrupted.has(job)) return this.leaveForNextStart(job, log);
          const error = asGeneratorError(err);
          log.warn({ attempt, code: error.code, retryable: error.retryable, err: error.message }, 'attempt failed');
          if (!error.retryable || attempt >= config.GEMINI_MAX_ATTEMPTS) {
            this.finish(job, 'failed', `Failed after ${attempt} attempt${attempt > 1 ? 's' : ''}: ${error.message}`, error.toJSON());
            return;
          }
          const delay = backoffDelay(attempt, config.GEMINI_RETRY_BASE_MS, config.GEMINI_RETRY_MAX_MS);
          job.emit(`Attempt ${attempt} failed (${error.code}); retrying in ${delay} ms`, { error: error.toJSON() });
          try {
            await sleep(delay, job.abort.signal);
          } catch {
            if (this.interrupted.has(job)) return this.leaveForNextStart(job, log);
            return;
          }
        }
      }
    } catch (err) {
      // A bug, not a generator failure: the job still ends, visibly.
      log.error({ err }, 'job crashed');
      if (!job.terminal) this.finish(job, 'failed', 'Internal error', { code: 'INTERNAL', message: 'The job failed because of an internal error', retryable: false });
    } finally {
      clearInterval(flushTimer);
      this.running.delete(job);
    }
  }

  private finish(job: Job, status: TerminalStatus, message: string, error?: JobError, result?: JobEvent['result'], generatorMeta?: Record<string, unknown>): void {
    job.transition(status, message, { ...(error ? { error } : {}), ...(result ? { result } : {}) });
    this.counters[status]++;
    this.persist(job, {
      status,
      generatedSpec: job.text,
      outputLength: job.chars,
      errorCode: error?.code ?? null,
      errorMessage: error?.message ?? null,
      processingTimeMs: result?.processingTimeMs ?? (job.startedAt ? Date.now() - job.startedAt : null),
      completedAt: job.completedAt,
      ...(generatorMeta ? { generatorMeta } : {}),
    });
    const retention = this.deps.config.JOB_RETENTION_MS;
    setTimeout(() => this.jobs.delete(job.jobId), retention).unref();
    void this.deps.events.expire(job.jobId, retention);
    // Released once the row is written, so whoever waits for the end reads the final row.
    const release = this.releases.get(job);
    void Promise.all([release, this.writes.get(job)]).then(([done]) => {
      done?.();
      this.releases.delete(job);
    });
  }

  /** A job cut short by shutdown goes back to queued in the database, without losing the attempt it was on. */
  private leaveForNextStart(job: Job, log: FastifyBaseLogger): void {
    log.info('job interrupted by shutdown; it will run again at the next start');
    this.persist(job, { status: 'queued', attempts: Math.max(0, job.attempt - 1), generatedSpec: '', outputLength: 0 });
  }

  private persistText(job: Job): void {
    if (job.terminal || job.status !== 'processing') return;
    this.persist(job, { generatedSpec: job.text, outputLength: job.chars });
  }

  /**
   * Writes to a job's row are chained, so they land in the order they were made;
   * the status, seq and message always come from the job at the time of the write.
   */
  private persist(job: Job, patch: Partial<NewIdeaRow> & { generatorMeta?: Record<string, unknown> }): void {
    const { generatorMeta, ...columns } = patch;
    const previous = this.writes.get(job) ?? Promise.resolve();
    const write = previous.then(async () => {
      const row = {
        status: job.status,
        attempts: job.attempt,
        updatedAt: job.updatedAt,
        ...columns,
        metadata: { seq: job.seq, message: job.message, chunks: job.chunks, toolUses: job.toolUses, ...(generatorMeta ?? {}) },
      };
      // A locked or briefly unavailable database must not leave a finished job looking unfinished.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.deps.ideas.update(job.ideaId, row);
          return;
        } catch (err) {
          if (attempt >= PERSIST_ATTEMPTS) {
            this.deps.log.error({ err, jobId: job.jobId, status: row.status }, 'could not persist job state; a restart will recover the job');
            return;
          }
          await sleep(PERSIST_RETRY_MS * attempt);
        }
      }
    });
    this.writes.set(job, write);
    void write.then(() => {
      if (this.writes.get(job) === write && job.terminal) this.writes.delete(job);
    });
  }
}

function asGeneratorError(err: unknown): GeneratorError {
  if (err instanceof GeneratorError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new GeneratorError('GENERATOR_ERROR', message, true);
}
