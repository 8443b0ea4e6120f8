/**
 * The job state machine: every status, the terminal ones, and every legal move.
 * This is the one place they are written; the database enum, the API schemas,
 * the metrics and the client import them from here.
 */
export const JOB_STATUSES = ['queued', 'started', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** The statuses a job never leaves. */
export const TERMINAL_STATUS_LIST = ['completed', 'failed', 'cancelled'] as const satisfies readonly JobStatus[];
export type TerminalStatus = (typeof TERMINAL_STATUS_LIST)[number];
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(TERMINAL_STATUS_LIST);

/** What a crash can leave behind: start-up recovery picks these rows up again. */
export const UNFINISHED_STATUSES = JOB_STATUSES.filter((s) => !TERMINAL_STATUSES.has(s));

/** Every legal move of a job; anything else is a bug and throws where it happens. A retry stays in processing. */
export const ALLOWED_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  queued: ['started', 'failed', 'cancelled'],
  started: ['processing', 'failed', 'cancelled'],
  processing: ['processing', 'completed', 'failed', 'cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
};

/** Takes any string, so clients and tools can ask about a status read off the wire. */
export function isTerminal(status: string): status is TerminalStatus {
  return (TERMINAL_STATUSES as ReadonlySet<string>).has(status);
}

export class IllegalTransitionError extends Error {
  constructor(from: JobStatus, to: JobStatus, jobId: string) {
    super(`Illegal job transition ${from} -> ${to} (job ${jobId})`);
    this.name = 'IllegalTransitionError';
  }
}

export function assertTransition(from: JobStatus, to: JobStatus, jobId: string): void {
  if (!ALLOWED_TRANSITIONS[from].includes(to)) throw new IllegalTransitionError(from, to, jobId);
}
