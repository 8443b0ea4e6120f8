import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { IdeaRepository } from '../db/ideas-repository.js';
import type { IdeaRow, NewIdeaRow } from '../db/schema.js';
import { Errors } from '../errors.js';
import type { CircuitBreaker } from '../generators/circuit-breaker.js';
import { CancelledError } from '../generators/errors.js';
import type { Generator } from '../generators/generator.js';
import type { TemplateName } from '../generators/templates.js';
import { canonicalJobId, type JobEvent, type JobSnapshot } from '../schemas/jobs.js';
import { isoTime, settleWithin } from '../time.js';
import { Job, lastEventFromRow, rowSeq, snapshotFromRow, type JobTimes } from './job.js';
import { JobRowMirror } from './mirror.js';
import { JobRunner, type FinishJob } from './runner.js';
import type { JobControl } from './stores/control.js';
import {
  FencedError,
  type EventListener,
  type EventLog,
  type EventLogSubscription,
  type TextChange,
} from './stores/event-log.js';
import type { JobLease, JobQueue, RunOutcome } from './stores/queue.js';
import { isTerminal } from './transitions.js';

/**
 * How long after a job's row ended its shared log may still lack the end (the last appends retried
 * while Redis is slow or away) before a log that says the job runs counts as stale (see follow()).
 */
const LOG_CATCH_UP_MS = 5000;

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

/** How long cancel and ?wait=true wait for the job's row to land before answering from memory (the write keeps trying). */
const ROW_WAIT_MS = 3000;

/** A job lost here while nobody else holds it is queued again after this (see queueIfOrphaned). */
const LOST_REQUEUE_AFTER_MS = 1000;

/** Sees every event of the jobs this process runs, with the job's times (metrics). */
export type JobObserver = (event: JobEvent, job: JobTimes) => void;

/**
 * The job registry wires a job's parts together: admission through the queue,
 * the runner (attempts and retries), the mirror (the job's ideas row), the
 * event log every event goes to, job control (cancel, wait for the end), and
 * start-up recovery and shutdown. It holds the jobs this process runs. Job ids are
 * taken in any case (UUIDs are case-insensitive) and looked up in lower case, as stored.
 */
export class JobRegistry {
  private readonly jobs = new Map<string, Job>();
  private readonly mirror: JobRowMirror;
  private readonly runner: JobRunner;
  /** Each held job's release in job control, called once it has ended and its row is written. */
  private readonly releases = new Map<Job, Promise<(ended?: boolean) => void>>();
  private closing = false;
  private readonly counters = { completed: 0, failed: 0, cancelled: 0 };
  private readonly observers = new Set<JobObserver>();
  /** Each job's last append to the event log, for steps that must follow it (a shared queue's add). */
  private readonly appends = new WeakMap<Job, Promise<void>>();

  constructor(private readonly deps: RegistryDeps) {
    this.mirror = new JobRowMirror(deps.ideas, deps.log);
    this.runner = new JobRunner({
      config: deps.config,
      generator: deps.generator,
      mirror: this.mirror,
      finish: (...args) => this.finish(...args),
      log: deps.log,
    });
    deps.queue.process((jobId, lease) => this.runQueued(jobId, lease));
  }

  /** The ids of the jobs running in this process now. */
  runningJobIds(): string[] {
    return this.runner.runningJobIds();
  }

  /** Job rows the database refuses to take (full, read-only, gone), and why; undefined while writes land. */
  rowWriteFailure(): { jobs: number; error: string } | undefined {
    return this.mirror.failure();
  }

  get stats() {
    const counts = this.deps.queue.counts();
    return {
      /** Jobs waiting for a runner: with a shared queue, across the cluster. */
      queued: counts.waiting,
      running: this.runner.runningCount,
      ...(counts.clusterRunning !== undefined ? { clusterRunning: counts.clusterRunning } : {}),
      retained: this.jobs.size,
      ...this.counters,
    };
  }

  async submit(input: SubmitInput): Promise<SubmitResult> {
    if (this.closing) throw new Errors.ShuttingDown();
    const { ideas, queue, config, generator } = this.deps;
    if (input.idempotencyKey !== undefined) {
      const existing = await ideas.findByIdempotencyKey(input.idempotencyKey);
      if (existing) return this.replay(existing, input);
    }
    if (!(await queue.hasRoom())) throw new Errors.QueueFull(queue.counts().waiting);
    const circuit = this.deps.circuit?.state();
    if (circuit?.state === 'open') throw new Errors.GeneratorUnavailable(circuit.nextProbeAt);

    const now = Date.now();
    const model = input.model ?? (generator.name === 'gemini' ? config.GEMINI_MODEL : undefined);
    const row: NewIdeaRow = {
      jobId: randomUUID(),
      userInput: input.idea,
      status: 'queued',
      template: input.template,
      generator: generator.name,
      model: model ?? null,
      idempotencyKey: input.idempotencyKey ?? null,
      metadata: {},
      createdAt: now,
      updatedAt: now,
    };
    let inserted: IdeaRow;
    try {
      inserted = await ideas.insert(row);
    } catch (err) {
      // Two requests with one key raced: the loser answers with the winner's job.
      const key = input.idempotencyKey;
      const existing = key !== undefined ? await ideas.findByIdempotencyKey(key) : undefined;
      if (existing) return this.replay(existing, input);
      throw err;
    }
    if (queue.shared) return this.submitShared(inserted);
    const job = await this.track(inserted, 0);
    job.emit('Queued');
    this.mirror.write(job, {});
    await queue.add(job.jobId);
    return { jobId: job.jobId, ideaId: job.ideaId, status: job.status, created: true };
  }

  /**
   * With a shared queue the job is not held here: its first event goes to the
   * shared log, then the queue hands it to whichever instance has room. Until the
   * queue has it, nothing is acknowledged: if Redis fails on the way, the row is
   * removed again and the client gets a 503 it can retry with the same key.
   */
  private async submitShared(row: IdeaRow): Promise<SubmitResult> {
    const { queue, control, events, ideas } = this.deps;
    const job = this.newJob(row, 0);
    try {
      await control.expect(job.jobId);
      await events.open(job.jobId, { status: 'queued', seq: 0, text: '' });
      job.emit('Queued');
      await this.appends.get(job);
      this.mirror.write(job, {});
      await queue.add(job.jobId);
    } catch (err) {
      await ideas.remove(row.id).catch(() => undefined);
      if (err instanceof Errors.QueueUnavailable) throw err;
      throw new Errors.QueueUnavailable((err as Error).message);
    }
    return { jobId: job.jobId, ideaId: job.ideaId, status: job.status, created: true };
  }

  private replay(existing: IdeaRow, input: SubmitInput): SubmitResult {
    const sameRequest =
      existing.userInput === input.idea &&
      existing.template === input.template &&
      (input.model === undefined || existing.model === input.model);
    if (!sameRequest) throw new Errors.IdempotencyConflict(input.idempotencyKey);
    const live = this.jobs.get(existing.jobId);
    return { jobId: existing.jobId, ideaId: existing.id, status: live?.status ?? existing.status, created: false };
  }

  /** Whether this process still holds the job in memory (running, or ended within JOB_RETENTION_MS). */
  holds(rawJobId: string): boolean {
    const jobId = canonicalJobId(rawJobId);
    return this.jobs.has(jobId);
  }

  async snapshot(rawJobId: string): Promise<JobSnapshot | undefined> {
    const jobId = canonicalJobId(rawJobId);
    const live = this.jobs.get(jobId);
    if (live) return live.snapshot();
    const row = await this.deps.ideas.findByJobId(jobId);
    if (!row) return undefined;
    const stored = snapshotFromRow(row);
    if (!this.deps.queue.shared || isTerminal(row.status)) return stored;
    // Running on another instance: the shared log is ahead of the row, which is written once a second.
    // At the same seq the log still wins: its status, seq and text are one atomic read, while the row's
    // seq is the job's when the write ran and its text the one of the last flush before it (older).
    const logged = await this.deps.events.snapshot(jobId).catch(() => undefined);
    if (!logged || logged.seq < stored.seq) return stored;
    const [last] = await this.deps.events.after(jobId, logged.seq - 1).catch(() => []);
    return {
      ...stored,
      status: logged.status,
      seq: logged.seq,
      text: logged.text,
      ...(last
        ? {
            message: last.message,
            attempt: last.attempt,
            progress: last.progress,
            ...(last.error ? { error: last.error } : {}),
          }
        : { progress: { ...stored.progress, chars: logged.text.length } }),
    };
  }

  /**
   * The job's last event: from the event log while it holds the job, else rebuilt from the row; and
   * from the row when that has ended while a shared log still says it runs (an older copy of Redis).
   */
  async lastEvent(rawJobId: string): Promise<JobEvent | undefined> {
    const jobId = canonicalJobId(rawJobId);
    const logged = await this.deps.events.snapshot(jobId).catch(() => undefined);
    const [last] = logged ? await this.deps.events.after(jobId, logged.seq - 1).catch(() => []) : [];
    if (last && (isTerminal(last.status) || !this.deps.queue.shared)) return last;
    const row = await this.deps.ideas.findByJobId(jobId);
    if (last && (!row || !isTerminal(row.status))) return last;
    return row ? lastEventFromRow(row) : undefined;
  }

  /**
   * Subscribes to the job's events (see EventLog.subscribe). With a shared log that says the job runs
   * while its row says it ended, the log is either behind (the job's last events are still being retried
   * into a Redis that is slow or away) or stale (Redis restored from an older copy: they never come).
   * Within LOG_CATCH_UP_MS of the row's end it is followed, and the row's end is delivered if the log's has
   * not come by then; later it is stale, and this answers undefined, as for a log that does not hold the
   * job, so callers answer from the row. Throws when the log cannot be reached.
   */
  async follow(
    rawJobId: string,
    afterSeq: number | undefined,
    listener: EventListener,
  ): Promise<EventLogSubscription | undefined> {
    const jobId = canonicalJobId(rawJobId);
    let ended = false;
    let timer: NodeJS.Timeout | undefined;
    const subscription = await this.deps.events.subscribe(jobId, afterSeq, (event) => {
      if (isTerminal(event.status)) {
        ended = true;
        clearTimeout(timer);
      }
      listener(event);
    });
    if (!subscription || !this.deps.queue.shared || isTerminal(subscription.snapshot.status)) return subscription;
    const row = await this.deps.ideas.findByJobId(jobId);
    if (!row || !isTerminal(row.status) || ended) return subscription;
    const since = Date.now() - (row.completedAt ?? row.updatedAt);
    if (since >= LOG_CATCH_UP_MS) {
      subscription.close();
      return undefined;
    }
    timer = setTimeout(() => {
      if (ended) return;
      ended = true;
      listener(lastEventFromRow(row));
    }, LOG_CATCH_UP_MS - since);
    return {
      ...subscription,
      close: () => {
        clearTimeout(timer);
        subscription.close();
      },
    };
  }

  /**
   * Cancels the job wherever it is held (job control) and answers once its row
   * says so; a job no instance holds is cancelled in its row directly.
   */
  async cancel(rawJobId: string, reason = 'Cancelled by request'): Promise<JobSnapshot> {
    const jobId = canonicalJobId(rawJobId);
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
    if (this.deps.queue.shared) return this.cancelWaiting(row, reason);
    const now = Date.now();
    await this.deps.ideas.update(row.id, { status: 'cancelled', updatedAt: now, completedAt: now });
    return snapshotFromRow({ ...row, status: 'cancelled', updatedAt: now, completedAt: now });
  }

  /**
   * A job in a shared queue that no instance holds: it is taken out of the queue,
   * its row and log say cancelled, and whoever waits for it is told. A runner
   * that took it meanwhile finds the row cancelled, or gets the cancel request
   * sent once more at the end.
   */
  private async cancelWaiting(row: IdeaRow, reason: string): Promise<JobSnapshot> {
    const { queue, events, control, ideas } = this.deps;
    await queue.remove(row.jobId);
    const last = await this.lastEvent(row.jobId);
    const now = Date.now();
    const seq = Math.max(last?.seq ?? 0, rowSeq(row)) + 1;
    const metadata = { ...row.metadata, seq, message: reason };
    const cancelled: IdeaRow = { ...row, status: 'cancelled', updatedAt: now, completedAt: now, metadata };
    await ideas.update(row.id, { status: 'cancelled', updatedAt: now, completedAt: now, metadata });
    const event: JobEvent = {
      ...lastEventFromRow(cancelled),
      timestamp: isoTime(now),
      ...(last ? { attempt: last.attempt, progress: last.progress } : {}),
    };
    await events.append(event).catch((err: unknown) => {
      this.deps.log.warn({ jobId: row.jobId, err: (err as Error).message }, 'cancel of a waiting job not logged');
    });
    await control.ended(row.jobId);
    void control.cancel(row.jobId, reason).catch(() => undefined);
    return snapshotFromRow(cancelled);
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

  /**
   * Resolves once the job has ended and its row is written (at once if no
   * instance holds it); false if the signal aborted first.
   */
  waitForEnd(rawJobId: string, signal?: AbortSignal): Promise<boolean> {
    const jobId = canonicalJobId(rawJobId);
    return this.deps.control.waitForEnd(jobId, signal);
  }

  /**
   * Jobs a previous process left unfinished: each is queued again with its
   * history kept, or failed with INTERRUPTED when it has used all its attempts.
   */
  async recover(): Promise<{ requeued: number; failed: number }> {
    const { ideas, queue, log } = this.deps;
    const rows = await ideas.listUnfinished();
    let requeued = 0;
    let failed = 0;
    for (const row of rows) {
      if (this.jobs.has(row.jobId)) continue;
      if (queue.shared) {
        // Safe on every instance, again and again: the queue holds each job id once, and whoever runs it checks its attempts.
        await this.deps.control.expect(row.jobId);
        await queue.add(row.jobId);
        requeued++;
        continue;
      }
      const job = await this.track(row, rowSeq(row));
      if (!this.requeue(job, row, 'Queued again after a restart')) {
        failed++;
        continue;
      }
      await queue.add(job.jobId);
      requeued++;
    }
    if (rows.length > 0) log.info({ requeued, failed }, 'recovered unfinished jobs');
    return { requeued, failed };
  }

  /**
   * Stops taking jobs (the waiting ones are handed back), lets running ones
   * finish within graceMs, then interrupts the rest and leaves them queued in
   * the database for the next start.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.closing = true;
    await this.deps.queue.stop();
    await this.runner.interrupt(graceMs);
    await this.deps.queue.idle();
    await this.mirror.close(graceMs);
  }

  /** Sees every event of the jobs this process holds (metrics, webhooks). */
  observe(observer: JobObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /**
   * A job found unfinished (after a restart, or taken over from an instance that
   * stopped): queued again with its history kept, or failed with INTERRUPTED when
   * it has used all its attempts. False when it failed.
   */
  private requeue(job: Job, row: IdeaRow, message: string): boolean {
    const max = this.deps.config.GEMINI_MAX_ATTEMPTS;
    if (row.status !== 'queued' && row.attempts >= max) {
      this.finish(job, 'failed', `${message}, with no attempts left`, {
        code: 'INTERRUPTED',
        message: `The service stopped while this job ran, and it had used all ${max} attempts`,
        retryable: false,
      });
      return false;
    }
    job.emit(message);
    // The interrupted attempt's partial text goes: a queued row's text would be indexed as a finished spec.
    this.mirror.write(job, { generatedSpec: '', outputLength: 0 });
    return true;
  }

  /** A job object whose events go to the event log and the observers, held by nobody yet. */
  private newJob(row: IdeaRow, seq: number): Job {
    const { events, log } = this.deps;
    const job: Job = new Job(row, seq, (event: JobEvent, text?: TextChange) => {
      const append = () => events.append(event, text);
      // With a shared queue a client that sees the end reads the idea next, on any instance: the terminal
      // event waits for the row that finish() writes right after it (or ROW_WAIT_MS), so that read finds it ended.
      const rowFirst = this.deps.queue.shared && isTerminal(event.status);
      const appended = (
        rowFirst ? Promise.resolve().then(() => this.mirror.settled(job, ROW_WAIT_MS).then(append)) : append()
      ).catch((err: unknown) => {
        if (err instanceof FencedError) return this.lose(job);
        log.error({ err, jobId: event.jobId, seq: event.seq }, 'could not append a job event');
      });
      this.appends.set(job, appended);
      for (const observer of this.observers) observer(event, job);
    });
    return job;
  }

  /**
   * Holds a job in this process: its events go to the event log and the observers,
   * cancels reach it. Under a lease (shared queue) its log and row writes are fenced
   * by it, and losing it stops the job here.
   */
  private async track(row: IdeaRow, seq: number, lease?: JobLease): Promise<Job> {
    const { events, control } = this.deps;
    const job = this.newJob(row, seq);
    await events.open(job.jobId, { status: job.status, seq, text: '' }, lease?.token);
    if (lease) {
      this.mirror.fence(
        job,
        () => lease.holds(),
        () => this.lose(job),
      );
      lease.lost.addEventListener('abort', () => this.lose(job), { once: true });
    }
    this.jobs.set(job.jobId, job);
    this.releases.set(
      job,
      control.hold(job.jobId, (reason) => this.cancelHeld(job, reason)),
    );
    return job;
  }

  /** Another instance holds the job now: stop it here and write nothing more about it. */
  private lose(job: Job): void {
    if (this.jobs.get(job.jobId) !== job || job.terminal) return;
    this.deps.log.warn({ jobId: job.jobId }, 'lost the lease on a running job; stopping it here');
    this.jobs.delete(job.jobId);
    this.runner.abandon(job);
    this.mirror.drop(job);
    void this.releases.get(job)?.then((release) => release(false));
    this.releases.delete(job);
    void this.queueIfOrphaned(job.jobId);
  }

  /**
   * A job lost here is normally held by the instance that took it over, and adding it is a no-op (the
   * queue holds each id once). But the lock may have gone with Redis's data (FLUSHALL, a restart
   * without persistence): then nobody holds it, and the recovery that noticed the loss passed it by
   * while it still ran here. Queued again unless its row has ended; whoever takes it checks the row
   * again. If Redis is away, the recovery on its return takes the job.
   *
   * Held back for LOST_REQUEUE_AFTER_MS: BullMQ's worker here lets go of the old run's lock (a few
   * Redis round trips) after this; had it taken the job again meanwhile, letting go of the old run
   * would drop the new run's lock renewal, and the new run would be lost in turn.
   */
  private async queueIfOrphaned(jobId: string): Promise<void> {
    try {
      const row = await this.deps.ideas.findByJobId(jobId);
      if (!row || isTerminal(row.status)) return;
      await this.deps.control.expect(jobId);
      await this.deps.queue.add(jobId, { afterMs: LOST_REQUEUE_AFTER_MS });
    } catch (err) {
      this.deps.log.warn({ err, jobId }, 'could not queue a lost job again; the next recovery will');
    }
  }

  /** A cancel request for a job held here, from whichever instance it came. */
  private cancelHeld(job: Job, reason: string): 'cancelled' | 'ended' {
    if (job.terminal) return 'ended';
    job.abort.abort(new CancelledError(reason));
    this.finish(job, 'cancelled', reason);
    return 'cancelled';
  }

  /**
   * What the queue hands out: a job held here, or (shared queue, under a lease)
   * one accepted anywhere, loaded from its row, its seq continued from the shared
   * log. A job another instance was running when it stopped is queued again first.
   */
  private async runQueued(jobId: string, lease?: JobLease): Promise<RunOutcome> {
    const { ideas, events, queue } = this.deps;
    if (this.closing) return queue.shared ? 'handed-back' : 'done';
    let job = this.jobs.get(jobId);
    // Handed out again while it still runs here under an older lease (Redis lost its queue): that run stops.
    if (job && lease) {
      this.lose(job);
      job = undefined;
    }
    if (!job) {
      const row = await ideas.findByJobId(jobId);
      if (!row || isTerminal(row.status)) {
        // Queued again after it ended (a recovery or a lost run that read its row just before the end landed):
        // its end is announced again, for waiters whose in-flight mark that queuing set back.
        if (queue.shared) await this.deps.control.ended(jobId);
        return 'done';
      }
      const logged = lease ? await events.snapshot(jobId).catch(() => undefined) : undefined;
      job = await this.track(row, Math.max(rowSeq(row), logged?.seq ?? 0), lease);
      if (lease) return this.runLeased(job, row);
    }
    return job.terminal ? 'done' : this.runner.run(job);
  }

  /**
   * A job taken from a shared queue. The lease is the permit to write: it is
   * given back only once the job's last event and row have landed.
   */
  private async runLeased(job: Job, row: IdeaRow): Promise<RunOutcome> {
    // Cancelled while this instance was taking it: the row says so, now that cancels reach this instance.
    const now = await this.deps.ideas.findByJobId(job.jobId);
    if (!now || isTerminal(now.status)) {
      this.jobs.delete(job.jobId);
      void this.releases.get(job)?.then((release) => release());
      this.releases.delete(job);
      return 'done';
    }
    const runnable = row.status === 'queued' || this.requeue(job, row, 'Queued again: the instance running it stopped');
    const outcome = runnable ? await this.runner.run(job) : 'done';
    // Bounded: with Redis away the final event waits in memory, and the row (written meanwhile) is what counts.
    if (outcome === 'done')
      await Promise.all([settleWithin(this.appends.get(job), ROW_WAIT_MS), this.mirror.settled(job, ROW_WAIT_MS)]);
    return outcome;
  }

  /** Ends a job: the terminal event, the row, the counters, and its release once the row is written. */
  private finish(...[job, status, message, error, result, generatorMeta]: Parameters<FinishJob>): void {
    job.transition(status, message, { ...(error ? { error } : {}), ...(result ? { result } : {}) });
    this.counters[status]++;
    this.mirror.write(job, {
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
    const forget = () => {
      this.jobs.delete(job.jobId);
      void this.deps.events.expire(job.jobId, 0);
    };
    setTimeout(() => void this.mirror.landed(job).then(forget), retention).unref();
    // Released once the row is written (or after ROW_WAIT_MS), so whoever waits for the end reads the final row.
    void Promise.all([this.releases.get(job), this.mirror.settled(job, ROW_WAIT_MS)]).then(([release]) => {
      release?.();
      this.releases.delete(job);
    });
  }
}
