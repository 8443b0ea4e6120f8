import { isTerminal } from '../jobs/transitions.js';
import type { JobEvent, JobSnapshot } from '../schemas/jobs.js';
import { ApiError, Idea2SpecError } from './errors.js';
import type { Http } from './http.js';
import type { ChannelWatcher, JobChannel, JobFrame } from './job-channel.js';
import type { Timers } from './timers.js';
import type { FollowOptions, Transport } from './types.js';

export interface FollowerDeps {
  channel: JobChannel;
  http: Http;
  timers: Timers;
  pollIntervalMs: number;
  staleAfterMs: number;
  /** Consecutive failed polls, with the socket down too, before the follow gives up. */
  maxPollFailures: number;
  /** Reads the job's event stream from afterSeq until it ends; absent: no Server-Sent Events, straight to polling. */
  eventStream?: (
    jobId: string,
    afterSeq: number,
    signal: AbortSignal,
    onEvent: (event: JobEvent) => void,
  ) => Promise<void>;
}

/** After `subscribed` announces more than was delivered, the replay should follow at once; if not, one poll fills in. */
const CATCH_UP_MS = 500;

/**
 * Follows one job over the shared socket and, while the socket is unavailable,
 * by polling its snapshot. Both sources feed one cursor (last seq delivered, and
 * how much of the current attempt's text was delivered), so every update reaches
 * `onUpdate` once, in order, whichever way it came.
 */
export class JobFollower implements ChannelWatcher {
  readonly done: Promise<JobEvent>;
  private lastSeq: number;
  private attempt: number | undefined;
  private textLength = 0;
  private transport: Transport | undefined;
  /** Socket events that arrived after a gap, held until the gap is filled. */
  private readonly ahead = new Map<number, JobEvent>();
  private polling = false;
  /** Set while the job is followed over its event stream. */
  private streaming: AbortController | undefined;
  private pollInFlight = false;
  private pollFailures = 0;
  private ended = false;
  private cancelPoll: (() => void) | undefined;
  private cancelCheck: (() => void) | undefined;
  private readonly inFlight = new AbortController();
  private readonly unwatch: () => void;
  private resolve!: (event: JobEvent) => void;
  private reject!: (reason: unknown) => void;

  constructor(
    private readonly jobId: string,
    private readonly deps: FollowerDeps,
    private readonly options: FollowOptions,
  ) {
    this.lastSeq = options.afterSeq ?? 0;
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.unwatch = options.signal?.aborted ? () => {} : deps.channel.watch(jobId, this);
    if (options.signal?.aborted) this.onAbort();
  }

  up(): void {
    if (this.ended) return;
    this.setTransport('websocket');
    this.stopStreaming();
    this.stopPolling();
    this.deps.channel.send({ type: 'subscribe-job', jobId: this.jobId, afterSeq: this.lastSeq });
    this.check(this.deps.staleAfterMs);
  }

  down(): void {
    if (this.ended || this.polling || this.streaming) return;
    this.cancelCheck?.();
    if (this.deps.eventStream) this.stream(this.deps.eventStream);
    else this.startPolling();
  }

  /** Server-Sent Events until the socket is back; if the stream cannot be had or breaks off before the end, polling. */
  private stream(read: NonNullable<FollowerDeps['eventStream']>): void {
    this.setTransport('sse');
    const stream = new AbortController();
    this.streaming = stream;
    void read(this.jobId, this.lastSeq, AbortSignal.any([stream.signal, this.inFlight.signal]), (event) =>
      this.applyEvent(event),
    )
      .catch((err: unknown) => {
        // An unknown job ends the follow; anything else (a server without the stream, a network failure) falls back to polling.
        if (!this.ended && err instanceof ApiError && err.code === 'JOB_NOT_FOUND') this.fail(err);
      })
      .finally(() => {
        if (this.streaming !== stream) return;
        this.streaming = undefined;
        if (!this.ended) this.startPolling();
      });
  }

  private stopStreaming(): void {
    const stream = this.streaming;
    this.streaming = undefined;
    stream?.abort();
  }

  private startPolling(): void {
    this.setTransport('polling');
    this.polling = true;
    this.nextPoll(0);
  }

  frame(frame: JobFrame): void {
    if (this.ended) return;
    switch (frame.type) {
      case 'job-update':
        this.check(this.deps.staleAfterMs);
        return this.applyEvent(frame);
      case 'subscribed':
        if (frame.seq > this.lastSeq) this.check(CATCH_UP_MS);
        return;
      case 'error':
        if (frame.code === 'JOB_NOT_FOUND')
          return this.fail(new ApiError(404, { code: frame.code, message: frame.message }));
        // e.g. TOO_MANY_SUBSCRIPTIONS: this job is followed by polling while the socket serves others.
        return this.down();
    }
  }

  /** Ends the follow from outside (the client closing). */
  stop(reason: Error): void {
    this.fail(reason);
  }

  private readonly onAbort = () => this.fail(this.options.signal?.reason);

  private applyEvent(event: JobEvent): void {
    if (event.seq <= this.lastSeq) return;
    if (event.seq > this.lastSeq + 1) {
      this.ahead.set(event.seq, event);
      return this.check(0);
    }
    this.deliver(event);
    this.drainAhead();
  }

  /** Turns a snapshot into one update covering every event since the last one delivered. */
  private applySnapshot(snapshot: JobSnapshot): void {
    if (snapshot.seq > this.lastSeq) {
      const from = snapshot.attempt === this.attempt ? this.textLength : 0;
      const delta = snapshot.text.length > from ? snapshot.text.slice(from) : '';
      const started = snapshot.startedAt ? Date.parse(snapshot.startedAt) : undefined;
      const completed = snapshot.completedAt ? Date.parse(snapshot.completedAt) : undefined;
      this.deliver({
        type: 'job-update',
        jobId: snapshot.jobId,
        ideaId: snapshot.id,
        seq: snapshot.seq,
        status: snapshot.status,
        timestamp: snapshot.updatedAt,
        message: snapshot.message,
        attempt: snapshot.attempt,
        progress: snapshot.progress,
        ...(delta ? { delta } : {}),
        ...(snapshot.error ? { error: snapshot.error } : {}),
        ...(snapshot.status === 'completed'
          ? {
              result: {
                outputLength: snapshot.text.length,
                processingTimeMs: started && completed ? completed - started : 0,
              },
            }
          : {}),
      });
    }
    this.drainAhead();
  }

  private deliver(event: JobEvent): void {
    if (this.ended) return;
    if (event.attempt !== this.attempt) {
      this.attempt = event.attempt;
      this.textLength = 0;
    }
    this.textLength += event.delta?.length ?? 0;
    this.lastSeq = event.seq;
    try {
      this.options.onUpdate?.(event);
    } catch (err) {
      return this.fail(err);
    }
    if (isTerminal(event.status)) this.finish(event);
  }

  private drainAhead(): void {
    for (const seq of [...this.ahead.keys()]) if (seq <= this.lastSeq) this.ahead.delete(seq);
    for (let next = this.ahead.get(this.lastSeq + 1); next && !this.ended; next = this.ahead.get(this.lastSeq + 1)) {
      this.ahead.delete(next.seq);
      this.deliver(next);
    }
    if (this.ahead.size > 0) this.check(CATCH_UP_MS);
  }

  /** One poll after ms, then (over the socket) a watch for silence again. */
  private check(ms: number): void {
    this.cancelCheck?.();
    this.cancelCheck = this.deps.timers.after(ms, () => {
      void this.poll().then(
        () => !this.ended && this.transport === 'websocket' && !this.polling && this.check(this.deps.staleAfterMs),
      );
    });
  }

  private nextPoll(ms: number): void {
    this.cancelPoll = this.deps.timers.after(ms, () => {
      void this.poll().then(() => {
        if (!this.polling || this.ended) return;
        // Repeated failures space the polls out, up to ten intervals.
        this.nextPoll(this.deps.pollIntervalMs * Math.min(10, 2 ** this.pollFailures));
      });
    });
  }

  private stopPolling(): void {
    this.polling = false;
    this.cancelPoll?.();
  }

  private async poll(): Promise<void> {
    if (this.ended || this.pollInFlight) return;
    this.pollInFlight = true;
    try {
      const { body } = await this.deps.http.request<JobSnapshot>(
        'GET',
        `/api/job/${encodeURIComponent(this.jobId)}/status`,
        { signal: this.inFlight.signal },
      );
      this.pollFailures = 0;
      this.applySnapshot(body);
    } catch (err) {
      if (this.ended) return;
      if (err instanceof ApiError && err.status === 404) return this.fail(err);
      if (++this.pollFailures >= this.deps.maxPollFailures && !this.deps.channel.isOpen) this.fail(err);
    } finally {
      this.pollInFlight = false;
    }
  }

  private setTransport(transport: Transport): void {
    if (this.transport === transport) return;
    this.transport = transport;
    this.options.onTransport?.(transport);
  }

  private finish(event: JobEvent): void {
    this.cleanUp();
    this.resolve(event);
  }

  private fail(reason: unknown): void {
    if (this.ended) return;
    this.cleanUp();
    this.reject(reason ?? new Idea2SpecError('ABORTED', 'Following the job was aborted'));
  }

  private cleanUp(): void {
    this.ended = true;
    this.stopStreaming();
    this.stopPolling();
    this.cancelCheck?.();
    this.inFlight.abort();
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.unwatch();
  }
}
