import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import PQueue from 'p-queue';
import type { Config } from '../config.js';
import type { IdeaRepository } from '../db/ideas-repository.js';
import type { IdeaRow, NewIdeaRow } from '../db/schema.js';
import { Errors } from '../errors.js';
import { backoffDelay, sleep } from '../gemini/backoff.js';
import { CancelledError, GeneratorError } from '../gemini/errors.js';
import type { CircuitBreaker } from '../gemini/circuit-breaker.js';
import type { Generator } from '../gemini/generator.js';
import type { TemplateName } from '../gemini/templates.js';
import { canonicalJobId, type JobError, type JobEvent, type JobSnapshot } from '../schemas/jobs.js';
import { Job, snapshotFromRow, type JobListener } from './job.js';
import { JobRowMirror, type RowPatch } from './mirror.js';

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
}

/** How long cancel and ?wait=true wait for the job's row to land before answering from memory (the write keeps trying). */
const ROW_WAIT_MS = 3000;

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
  private readonly mirror: JobRowMirror;
  private readonly queue: PQueue;
  private closing = false;
  private readonly counters = { completed: 0, failed: 0, cancelled: 0 };
  private readonly observers = new Set<JobListener>();
  /** Each queued or running job's execution, settled whatever its outcome; shutdown waits on these. */
  private readonly executions = new Map<Job, Promise<void>>();

  constructor(private readonly deps: RegistryDeps) {
    this.queue = new PQueue({ concurrency: deps.config.JOB_CONCURRENCY });
    this.mirror = new JobRowMirror(deps.ideas, deps.log);
  }

  /** Job rows the database refuses to take (full, read-only, gone), and why; undefined while writes land. */
  rowWriteFailure(): { jobs: number; error: string } | undefined {
    return this.mirror.failure();
  }

  get stats() {
    return { queued: this.queue.size, running: this.running.size, retained: this.jobs.size, ...this.counters };
  }

  get generatorName() {
    return this.deps.generator.name;
  }

  async submit(input: SubmitInput): Promise<SubmitResult> {
    if (this.closing) throw new Errors.ShuttingDown();
    if (input.idempotencyKey !== undefined) {
      const existing = await this.deps.ideas.findByIdempotencyKey(input.idempotencyKey);
      if (existing) return this.replay(existing, input);
    }
    if (this.queueIsFull()) throw new Errors.QueueFull(this.queue.size);
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
    const job = this.track(new Job(inserted, 0));
    job.emit('Queued');
    this.persist(job, {});
    this.enqueue(job);
    return { jobId: job.jobId, ideaId: job.ideaId, status: job.status, created: true };
  }

  private replay(existing: IdeaRow, input: SubmitInput): SubmitResult {
    const sameRequest = existing.userInput === input.idea && existing.template === input.template && (input.model === undefined || existing.model === input.model);
    if (!sameRequest) throw new Errors.IdempotencyConflict(input.idempotencyKey);
    const live = this.jobs.get(existing.jobId);
    return { jobId: existing.jobId, ideaId: existing.id, status: live?.status ?? existing.status, created: false };
  }

  private queueIsFull(): boolean {
    return this.queue.pending >= this.deps.config.JOB_CONCURRENCY && this.queue.size >= this.deps.config.JOB_QUEUE_LIMIT;
  }

  /** The live job if this process holds it. */
  get(jobId: string): Job | undefined {
    return this.jobs.get(canonicalJobId(jobId));
  }

  async snapshot(jobId: string): Promise<JobSnapshot | undefined> {
    const live = this.get(jobId);
    if (live) return live.snapshot();
    const row = await this.deps.ideas.findByJobId(canonicalJobId(jobId));
    return row ? snapshotFromRow(row) : undefined;
  }

  /** Subscribes to a live job; undefined when the job is not running here (its snapshot is all there is). */
  subscribe(jobId: string, listener: JobListener): (() => void) | undefined {
    const job = this.get(jobId);
    return job && !job.terminal ? job.subscribe(listener) : undefined;
  }

  async cancel(jobId: string, reason = 'Cancelled by request'): Promise<JobSnapshot> {
    const job = this.get(jobId);
    if (job) {
      if (job.terminal) throw new Errors.JobAlreadyFinished(jobId, job.status);
      job.abort.abort(new CancelledError(reason));
      this.finish(job, 'cancelled', reason);
      await this.mirror.settled(job, ROW_WAIT_MS);
      return job.snapshot();
    }
    const row = await this.deps.ideas.findByJobId(canonicalJobId(jobId));
    if (!row) throw new Errors.JobNotFound(jobId);
    if (['completed', 'failed', 'cancelled'].includes(row.status)) throw new Errors.JobAlreadyFinished(jobId, row.status);
    const now = Date.now();
    await this.deps.ideas.update(row.id, { status: 'cancelled', updatedAt: now, completedAt: now });
    return snapshotFromRow({ ...row, status: 'cancelled', updatedAt: now, completedAt: now });
  }

  /** Resolves once the job has ended and its row is written (at once if this process does not run it); false if the signal aborted first. */
  async waitForEnd(jobId: string, signal?: AbortSignal): Promise<boolean> {
    const job = this.get(jobId);
    if (!job) return true;
    const ended = await new Promise<boolean>((resolve) => {
      if (signal?.aborted) return resolve(false);
      signal?.addEventListener('abort', () => resolve(false), { once: true });
      void job.whenEnded().then(() => resolve(true));
    });
    if (ended) await this.mirror.settled(job, ROW_WAIT_MS);
    return ended;
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
      const seq = typeof row.metadata?.seq === 'number' ? row.metadata.seq : 0;
      const job = this.track(new Job(row, seq));
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
      this.enqueue(job);
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
    this.queue.pause();
    this.queue.clear();
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
      await Promise.all(running.map((j) => this.executions.get(j)));
    }
    await this.mirror.close(graceMs);
  }

  /** Sees every event of every job (metrics, dashboards, cross-instance fan-out). */
  observe(listener: JobListener): () => void {
    this.observers.add(listener);
    return () => this.observers.delete(listener);
  }

  private track(job: Job): Job {
    this.jobs.set(job.jobId, job);
    job.subscribe((event) => {
      for (const observer of this.observers) observer(event);
    });
    return job;
  }

  private enqueue(job: Job): void {
    const run = this.queue
      .add(() => this.execute(job))
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => this.executions.delete(job));
    this.executions.set(job, run);
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
              // The generator stops at the cap, but only after the chunk that crossed it: that chunk is cut, so the text never exceeds it.
              const kept = withinLimit(delta, config.GENERATOR_OUTPUT_LIMIT - job.chars);
              if (!job.terminal && kept.length > 0) job.appendDelta(kept);
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

  private finish(job: Job, status: 'completed' | 'failed' | 'cancelled', message: string, error?: JobError, result?: JobEvent['result'], generatorMeta?: Record<string, unknown>): void {
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
    // Forgotten only once its row holds the end: until then this process is the only one that knows it.
    setTimeout(() => void this.mirror.landed(job).then(() => this.jobs.delete(job.jobId)), retention).unref();
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

  private persist(job: Job, patch: RowPatch): void {
    this.mirror.write(job, patch);
  }
}

/** The start of `delta` that fits in `room` UTF-16 units, never ending between the two halves of a surrogate pair. */
function withinLimit(delta: string, room: number): string {
  if (delta.length <= room) return delta;
  if (room <= 0) return '';
  const end = /[\uD800-\uDBFF]/.test(delta[room - 1]) ? room - 1 : room;
  return delta.slice(0, end);
}

function asGeneratorError(err: unknown): GeneratorError {
  if (err instanceof GeneratorError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new GeneratorError('GENERATOR_ERROR', message, true);
}
