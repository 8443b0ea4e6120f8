import type { JobStatus } from '../schemas/jobs.js';

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled']);

/** Every legal move of a job; anything else is a bug and throws where it happens. A retry stays in processing. */
export const ALLOWED_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  queued: ['started', 'failed', 'cancelled'],
  started: ['processing', 'failed', 'cancelled'],
  processing: ['processing', 'completed', 'failed', 'cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
};

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.has(status);
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
