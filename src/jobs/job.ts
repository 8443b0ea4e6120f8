import type { IdeaRow } from '../db/schema.js';
import { storedError } from '../http/ideas.js';
import type { JobError, JobEvent, JobSnapshot } from '../schemas/jobs.js';
import { isoTime, isoTimeOrUndefined } from '../time.js';
import type { TextChange } from './stores/event-log.js';
import { assertTransition, isTerminal, type JobStatus } from './transitions.js';

/** Where a job's events go (the event log and this process's observers), in order. */
export type JobEventSink = (event: JobEvent, text?: TextChange) => void;

/**
 * Tool requests a job keeps a record of (the first ones), and how much of each name. A model
 * looping on a denied tool, or a CLI gone wrong, can send them by the million: they are counted,
 * but the record (in memory and in the row's metadata, rewritten on every flush) stays this size.
 */
export const MAX_TOOL_USES_KEPT = 20;
const TOOL_NAME_CHARS = 100;

/** When a job was created, started and ended: what metrics need of a job, and no more. */
export interface JobTimes {
  readonly createdAt: number;
  readonly startedAt: number | undefined;
  readonly completedAt: number | undefined;
}

/**
 * One job held by this process: its state and the text of its current attempt.
 * Every change goes through `emit`, which numbers the event and hands it to the
 * sink, so the event log, the snapshot and the row agree.
 */
export class Job implements JobTimes {
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
  /** The first MAX_TOOL_USES_KEPT tool requests of the job (every attempt); `toolUseCount` counts them all. */
  readonly toolUses: Array<{ name: string; id?: string; at: number }> = [];
  toolUseCount = 0;
  private parts: string[] = [];
  private textLength = 0;
  /** A text change waiting for the next event (a new attempt's reset, the final answer). */
  private textChange: TextChange | undefined;
  private readonly ended: Promise<void>;
  private resolveEnded!: () => void;

  constructor(
    row: IdeaRow,
    seq: number,
    private readonly sink: JobEventSink,
  ) {
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
    if (isTerminal(status)) this.resolveEnded();
    return event;
  }

  /** A new attempt starts from an empty text. */
  resetText(): void {
    this.parts = [];
    this.textLength = 0;
    this.chunks = 0;
    this.textChange = { reset: true };
  }

  appendDelta(delta: string): JobEvent {
    this.parts.push(delta);
    this.textLength += delta.length;
    this.chunks++;
    return this.emit(this.message, { delta });
  }

  /** Counts a tool request the generator made; the first few are kept, their names and ids cut short. */
  recordToolUse(tool: { name: string; id?: string; at: number }): boolean {
    this.toolUseCount++;
    if (this.toolUses.length >= MAX_TOOL_USES_KEPT) return false;
    const id = tool.id === undefined ? {} : { id: tool.id.slice(0, TOOL_NAME_CHARS) };
    this.toolUses.push({ name: tool.name.slice(0, TOOL_NAME_CHARS), ...id, at: tool.at });
    return true;
  }

  /** Replaces the text wholesale, e.g. with the generator's final answer. */
  setText(text: string): void {
    this.parts = [text];
    this.textLength = text.length;
    this.textChange = { replace: text };
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
    const change = this.textChange;
    this.textChange = undefined;
    this.sink(event, change);
    return event;
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

/** The seq of the last event a job's row recorded: where its numbering continues. */
export function rowSeq(row: IdeaRow): number {
  return typeof row.metadata?.seq === 'number' ? row.metadata.seq : 0;
}

/** The snapshot of a job this process no longer (or never) held, from its durable row. */
export function snapshotFromRow(row: IdeaRow): JobSnapshot {
  const meta = row.metadata ?? {};
  return {
    jobId: row.jobId,
    id: row.id,
    status: row.status,
    seq: rowSeq(row),
    attempt: row.attempts,
    message: typeof meta.message === 'string' ? meta.message : row.status,
    progress: {
      chars: row.generatedSpec.length,
      chunks: typeof meta.chunks === 'number' ? meta.chunks : 0,
    },
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
    ...(row.status === 'completed'
      ? { result: { outputLength: row.outputLength, processingTimeMs: row.processingTimeMs ?? 0 } }
      : {}),
  };
}
