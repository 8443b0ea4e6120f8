import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import { backoffDelay } from '../generators/backoff.js';
import { CancelledError, GeneratorError } from '../generators/errors.js';
import { StorableStream, storableText } from '../generators/storable-text.js';
import type { Generator } from '../generators/generator.js';
import type { TemplateName } from '../generators/templates.js';
import type { JobError, JobEvent } from '../schemas/jobs.js';
import { sleep } from '../time.js';
import type { Job } from './job.js';
import type { JobRowMirror } from './mirror.js';
import type { RunOutcome } from './stores/queue.js';
import type { TerminalStatus } from './transitions.js';

/**
 * While a job runs, its row keeps the start of the streamed text (a preview for history and
 * GET /api/spec/:id), written once a second, up to TEXT_PREVIEW_CHARS characters; the whole
 * text is written once, when the job ends. Each write rewrites the whole record on the thread
 * that serves requests (about 25 ms for 1,000,000 Chinese characters, 3 MB of UTF-8), and the
 * live text is served from the job itself (and, in cluster mode, from Redis), so rewriting a
 * growing text every second bought nothing but pauses that grow with it.
 */
const TEXT_FLUSH_MS = 1000;
const TEXT_PREVIEW_CHARS = 100_000;
/** How long a job handed back at shutdown waits for its row to say queued before another instance may take it. */
const HAND_BACK_WAIT_MS = 5000;

/** Ends a job: the registry's business (counters, retention, release), called by the runner. */
export type FinishJob = (
  job: Job,
  status: TerminalStatus,
  message: string,
  error?: JobError,
  result?: JobEvent['result'],
  generatorMeta?: Record<string, unknown>,
) => void;

export interface RunnerDeps {
  config: Config;
  generator: Generator;
  mirror: JobRowMirror;
  finish: FinishJob;
  log: FastifyBaseLogger;
}

/**
 * Runs one job: the attempts, each a generator run streaming into the job, with
 * backoff between retryable failures, until the job completes, fails, is
 * cancelled, or is interrupted by shutdown (then its row goes back to queued).
 */
export class JobRunner {
  private readonly running = new Set<Job>();
  private readonly interrupted = new WeakSet<Job>();
  /** Jobs whose lease went to another instance: stopped here without a word to the row or the log. */
  private readonly lost = new WeakSet<Job>();

  constructor(private readonly deps: RunnerDeps) {}

  /** Jobs holding a runner slot in this process. */
  get runningCount(): number {
    return this.running.size;
  }

  /** The ids of the jobs holding a runner slot in this process. */
  runningJobIds(): string[] {
    return [...this.running].map((job) => job.jobId);
  }

  /**
   * Gives the running jobs up to graceMs to end, then interrupts the rest: their
   * rows go back to queued, the attempt they were on not counted.
   */
  async interrupt(graceMs: number): Promise<void> {
    const running = [...this.running];
    if (running.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(running.map((j) => j.whenEnded())), graceOver]);
    clearTimeout(timer);
    for (const job of this.running) {
      this.interrupted.add(job);
      job.abort.abort(new CancelledError('Service shutting down'));
    }
  }

  /** Stops a job this instance no longer holds (its lease lapsed): the generator is killed, nothing more is written. */
  abandon(job: Job): void {
    this.lost.add(job);
    job.abort.abort(new CancelledError('Another instance holds this job now'));
  }

  async run(job: Job): Promise<RunOutcome> {
    const { config, generator, mirror, finish } = this.deps;
    const log = this.deps.log.child({ jobId: job.jobId, ideaId: job.ideaId });
    this.running.add(job);
    const flushTimer = setInterval(() => this.writeText(job), TEXT_FLUSH_MS);
    flushTimer.unref();
    try {
      job.startedAt ??= Date.now();
      job.transition('started', 'Starting the generator');
      mirror.write(job, { startedAt: job.startedAt });
      for (let attempt = job.attempt + 1; ; attempt++) {
        job.attempt = attempt;
        job.resetText();
        const message = `Generating (attempt ${attempt} of ${config.GEMINI_MAX_ATTEMPTS})`;
        if (job.status === 'processing') job.emit(message);
        else job.transition('processing', message);
        mirror.write(job, { attempts: attempt, generatedSpec: '', outputLength: 0 });
        log.info({ attempt, generator: generator.name }, 'attempt started');
        const storable = new StorableStream();
        const append = (text: string) => {
          // The generator stops at the cap, but only after the chunk that crossed it: that chunk is cut.
          const kept = withinLimit(text, config.GENERATOR_OUTPUT_LIMIT - job.chars);
          if (!job.terminal && kept.length > 0) job.appendDelta(kept);
        };
        try {
          const output = await generator.run({
            idea: job.idea,
            template: job.template as TemplateName,
            model: job.model,
            attempt,
            signal: job.abort.signal,
            log,
            onDelta: (delta) => append(storable.push(delta)),
            onToolUse: (tool) => {
              // Logged while it is kept: a flood of requests is one count, not a line each.
              if (job.recordToolUse(tool))
                log.warn(
                  { tool: tool.name.slice(0, 100) },
                  'generator asked to use a tool; tools are not auto-approved',
                );
            },
          });
          if (this.lost.has(job)) return 'lost';
          if (job.terminal) return 'done';
          const text = storableText(output.text);
          job.setText(text);
          const processingTimeMs = Date.now() - job.startedAt;
          const result = { outputLength: text.length, processingTimeMs };
          finish(job, 'completed', 'Specification ready', undefined, result, output.metadata);
          log.info({ attempt, processingTimeMs, outputLength: text.length }, 'job completed');
          return 'done';
        } catch (err) {
          if (this.lost.has(job)) return 'lost';
          if (job.terminal) return 'done';
          if (this.interrupted.has(job)) return this.leaveForNextStart(job, log);
          append(storable.flush());
          const error = asGeneratorError(err);
          log.warn({ attempt, code: error.code, retryable: error.retryable, err: error.message }, 'attempt failed');
          if (!error.retryable || attempt >= config.GEMINI_MAX_ATTEMPTS) {
            const tries = `${attempt} attempt${attempt > 1 ? 's' : ''}`;
            finish(job, 'failed', `Failed after ${tries}: ${error.message}`, error.toJSON());
            return 'done';
          }
          const delay = backoffDelay(attempt, config.GEMINI_RETRY_BASE_MS, config.GEMINI_RETRY_MAX_MS);
          job.emit(`Attempt ${attempt} failed (${error.code}); retrying in ${delay} ms`, { error: error.toJSON() });
          try {
            await sleep(delay, job.abort.signal);
          } catch {
            if (this.lost.has(job)) return 'lost';
            if (this.interrupted.has(job)) return this.leaveForNextStart(job, log);
            return 'done';
          }
        }
      }
    } catch (err) {
      // A bug, not a generator failure: the job still ends, visibly.
      log.error({ err }, 'job crashed');
      const error = { code: 'INTERNAL', message: 'The job failed because of an internal error', retryable: false };
      if (!job.terminal) finish(job, 'failed', 'Internal error', error);
      return 'done';
    } finally {
      clearInterval(flushTimer);
      this.running.delete(job);
    }
  }

  /**
   * A job cut short by shutdown goes back to queued in the database, the attempt
   * it was on not counted; it is handed back once that row is written, because
   * with a shared queue another instance may take it at once.
   */
  private async leaveForNextStart(job: Job, log: FastifyBaseLogger): Promise<RunOutcome> {
    log.info('job interrupted by shutdown; it will run again on the next instance to take it');
    job.emit('This instance is shutting down; the job goes back to the queue');
    const attempts = Math.max(0, job.attempt - 1);
    this.deps.mirror.write(job, { status: 'queued', attempts, generatedSpec: '', outputLength: 0 });
    await this.deps.mirror.settled(job, HAND_BACK_WAIT_MS);
    return 'handed-back';
  }

  /** How much of each running job's text its row holds now. */
  private readonly previewed = new WeakMap<Job, { attempt: number; chars: number }>();

  private writeText(job: Job): void {
    if (job.terminal || job.status !== 'processing') return;
    const preview = withinLimit(job.text, TEXT_PREVIEW_CHARS);
    const written = this.previewed.get(job);
    if (written?.attempt === job.attempt && written.chars === preview.length) return;
    this.previewed.set(job, { attempt: job.attempt, chars: preview.length });
    this.deps.mirror.write(job, { generatedSpec: preview, outputLength: job.chars });
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
