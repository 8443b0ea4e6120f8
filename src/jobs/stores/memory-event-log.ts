import type { JobEvent } from '../../schemas/jobs.js';
import { isTerminal, type JobStatus } from '../transitions.js';
import type { EventListener, EventLog, EventLogSnapshot, EventLogSubscription, TextChange } from './event-log.js';

/** Retained events per job; older ones are dropped, and a subscriber catches up from the snapshot's text. */
export const MAX_RETAINED_EVENTS = 5000;

interface Entry {
  status: JobStatus;
  seq: number;
  parts: string[];
  events: JobEvent[];
  listeners: Set<EventListener>;
  expiry?: NodeJS.Timeout;
}

/**
 * The event log of one process. Everything happens synchronously inside each
 * call, so a subscription's snapshot, replay and first live event cannot be
 * separated by an append.
 */
export class MemoryEventLog implements EventLog {
  private readonly jobs = new Map<string, Entry>();

  async open(jobId: string, start: EventLogSnapshot): Promise<void> {
    clearTimeout(this.jobs.get(jobId)?.expiry);
    this.jobs.set(jobId, {
      status: start.status,
      seq: start.seq,
      parts: start.text ? [start.text] : [],
      events: [],
      listeners: new Set(),
    });
  }

  async append(event: JobEvent, change?: TextChange): Promise<void> {
    const entry = this.jobs.get(event.jobId);
    if (!entry) throw new Error(`No event log is open for job ${event.jobId}`);
    if (event.seq !== entry.seq + 1) {
      throw new Error(`Job ${event.jobId}: event seq ${event.seq} does not follow ${entry.seq}`);
    }
    entry.seq = event.seq;
    entry.status = event.status;
    if (change && 'reset' in change) entry.parts = [];
    if (change && 'replace' in change) entry.parts = [change.replace];
    if (event.delta) entry.parts.push(event.delta);
    entry.events.push(event);
    if (entry.events.length > MAX_RETAINED_EVENTS) entry.events.splice(0, entry.events.length - MAX_RETAINED_EVENTS);
    for (const listener of entry.listeners) listener(event);
    if (isTerminal(event.status)) entry.listeners.clear();
  }

  async after(jobId: string, afterSeq: number): Promise<JobEvent[]> {
    const entry = this.jobs.get(jobId);
    return entry ? eventsAfter(entry, afterSeq) : [];
  }

  async snapshot(jobId: string): Promise<EventLogSnapshot | undefined> {
    const entry = this.jobs.get(jobId);
    return entry && snapshotOf(entry);
  }

  async subscribe(
    jobId: string,
    afterSeq: number | undefined,
    listener: EventListener,
  ): Promise<EventLogSubscription | undefined> {
    const entry = this.jobs.get(jobId);
    if (!entry) return undefined;
    const snapshot = snapshotOf(entry);
    const replay = afterSeq === undefined ? [] : eventsAfter(entry, afterSeq);
    if (isTerminal(entry.status)) return { snapshot, replay, close: () => {} };
    entry.listeners.add(listener);
    return { snapshot, replay, close: () => entry.listeners.delete(listener) };
  }

  async expire(jobId: string, ms: number): Promise<void> {
    const entry = this.jobs.get(jobId);
    if (!entry) return;
    clearTimeout(entry.expiry);
    entry.expiry = setTimeout(() => {
      if (this.jobs.get(jobId) === entry) this.jobs.delete(jobId);
    }, ms).unref();
  }

  async close(): Promise<void> {
    for (const entry of this.jobs.values()) {
      clearTimeout(entry.expiry);
      entry.listeners.clear();
    }
    this.jobs.clear();
  }
}

function snapshotOf(entry: Entry): EventLogSnapshot {
  if (entry.parts.length > 1) entry.parts = [entry.parts.join('')];
  return { status: entry.status, seq: entry.seq, text: entry.parts[0] ?? '' };
}

function eventsAfter(entry: Entry, afterSeq: number): JobEvent[] {
  const first = entry.events[0]?.seq ?? entry.seq + 1;
  return entry.events.slice(Math.max(0, afterSeq + 1 - first));
}
