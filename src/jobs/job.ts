import type { IdeaRow } from '../db/schema.js';
import type { JobError, JobEvent, JobSnapshot, JobStatus } from '../schemas/jobs.js';
import { isoTime, isoTimeOrUndefined } from '../schemas/common.js';
import { storedError } from '../schemas/ideas.js';
import { assertTransition, isTerminal } from './transitions.js';

export type JobListener = (event: JobEvent) => void;


/** Retained events per job; older ones are dropped, and a subscriber catches up from the snapshot's text. */
export const MAX_RETAINED_EVENTS = 5000;

/**
 * One job in this process: its state, its numbered event log and its listeners.
 * Every change goes through `emit`, so the log, the snapshot and the listeners agree.
 */
export class Job {
  readonly jobId: string;
  readonly ideaId: number;
  readonly idea: string;
  readonly template: string;
  readonly model: string | undefined;
  readonly createdAt: number;
  readonly abort = new AbortController();
  status: JobStatus;
  seq: number;
  attempt: number;
  message = '';
  error: JobError | undefined;
  startedAt: number | undefined;
  updatedAt: number;
  completedAt: number | undefined;
  chunks = 0;
  toolUses: Array<{ name: string; id?: string; at: number }> = [];
  private parts: string[] = [];
  private textLength = 0;
  private readonly events: JobEvent[] = [];
  private readonly listeners = new Set<JobListener>();
  private readonly ended: Promise<void>;
  private resolveEnded!: () => void;

  constructor(row: IdeaRow, seq: number) {
    this.jobId = row.jobId;
    this.ideaId = row.id;
    this.idea = row.userInput;
    this.template = row.template;
    this.model = row.model ?? undefined;
    this.createdAt = row.createdAt;
    this.updatedAt = row.updatedAt;
    this.status = 'queued';
    this.seq = seq;
    this.attempt = row.attempts;
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  get text(): string {
    if (this.parts.length > 1) this.parts = [this.parts.join('')];
    return this.parts[0] ?? '';
  }

  get chars(): number {
    return this.textLength;
  }

  get terminal(): boolean {
    return isTerminal(this.status);
  }

  /** Resolves once the job reaches a terminal status. */
  whenEnded(): Promise<void> {
    return this.ended;
  }

  /** Moves the job (checked against the transition table) and publishes the event. */
  transition(status: JobStatus, message: string, extra: Partial<Pick<JobEvent, 'error' | 'result'>> = {}): JobEvent {
    assertTransition(this.status, status, this.jobId);
    this.status = status;
    if (extra.error) this.error = extra.error;
    if (isTerminal(status)) this.completedAt = Date.now();
    const event = this.emit(message, extra);
    if (isTerminal(status)) {
      this.resolveEnded();
      this.listeners.clear();
    }
    return event;
  }

  /** A new attempt starts from an empty text. */
  resetText(): void {
    this.parts = [];
    this.textLength = 0;
    this.chunks = 0;
  }

  appendDelta(delta: string): JobEvent {
    this.parts.push(delta);
    this.textLength += delta.length;
    this.chunks++;
    return this.emit(this.message, { delta });
  }

  /** Replaces the text wholesale, e.g. with the generator's final answer. */
  setText(text: string): void {
    this.parts = [text];
    this.textLength = text.length;
  }

  /** Publishes an event with the current state (status unchanged), e.g. a recovery notice. */
  emit(message: string, extra: Partial<Pick<JobEvent, 'delta' | 'error' | 'result'>> = {}): JobEvent {
    this.message = message;
    this.updatedAt = Date.now();
    const event: JobEvent = {
      type: 'job-update',
      jobId: this.jobId,
      ideaId: this.ideaId,
      seq: ++this.seq,
      status: this.status,
      timestamp: isoTime(this.updatedAt),
      message,
      attempt: this.attempt,
      progress: { chars: this.textLength, chunks: this.chunks },
      ...extra,
    };
    this.events.push(event);
    if (this.events.length > MAX_RETAINED_EVENTS) this.events.splice(0, this.events.length - MAX_RETAINED_EVENTS);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  eventsAfter(seq: number): JobEvent[] {
    const first = this.events[0]?.seq ?? this.seq + 1;
    return this.events.slice(Math.max(0, seq + 1 - first));
  }

  subscribe(listener: JobListener): () => void {
    if (this.terminal) return () => {};
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  snapshot(): JobSnapshot {
    return {
      jobId: this.jobId,
      id: this.ideaId,
      status: this.status,
      seq: this.seq,
      attempt: this.attempt,
      message: this.message,
      progress: { chars: this.textLength, chunks: this.chunks },
      text: this.text,
      ...(this.error ? { error: this.error } : {}),
      createdAt: isoTime(this.createdAt),
      startedAt: isoTimeOrUndefined(this.startedAt),
      updatedAt: isoTime(this.updatedAt),
      completedAt: isoTimeOrUndefined(this.completedAt),
    };
  }
}

/** The snapshot of a job this process no longer (or never) held, from its durable row. */
export function snapshotFromRow(row: IdeaRow): JobSnapshot {
  const meta = row.metadata ?? {};
  return {
    jobId: row.jobId,
    id: row.id,
    status: row.status,
    seq: typeof meta.seq === 'number' ? meta.seq : 0,
    attempt: row.attempts,
    message: typeof meta.message === 'string' ? meta.message : row.status,
    progress: { chars: row.generatedSpec.length, chunks: typeof meta.chunks === 'number' ? meta.chunks : 0 },
    text: row.generatedSpec,
    ...storedError(row),
    createdAt: isoTime(row.createdAt),
    startedAt: isoTimeOrUndefined(row.startedAt),
    updatedAt: isoTime(row.updatedAt),
    completedAt: isoTimeOrUndefined(row.completedAt),
  };
}

/** The job's last event, rebuilt from its stored idea, for when the live job is gone (after a restart, or past JOB_RETENTION_MS). */
export function lastEventFromRow(row: IdeaRow): JobEvent {
  const snapshot = snapshotFromRow(row);
  return {
    type: 'job-update',
    jobId: row.jobId,
    ideaId: row.id,
    seq: snapshot.seq,
    status: snapshot.status,
    timestamp: snapshot.completedAt ?? isoTime(row.updatedAt),
    message: snapshot.message,
    attempt: snapshot.attempt,
    progress: snapshot.progress,
    ...(snapshot.error ? { error: snapshot.error } : {}),
    ...(row.status === 'completed' ? { result: { outputLength: row.outputLength, processingTimeMs: row.processingTimeMs ?? 0 } } : {}),
  };
}
