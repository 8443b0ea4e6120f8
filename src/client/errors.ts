import type { ErrorResponse } from '../schemas/common.js';
import type { JobError } from '../schemas/jobs.js';

/** Every error the SDK raises on its own carries a stable `code`; aborts reject with the signal's reason instead. */
export class Idea2SpecError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The service answered with an error: its status, `code` and `requestId` as sent. */
export class ApiError extends Idea2SpecError {
  readonly status: number;
  readonly requestId: string | undefined;
  readonly details: ErrorResponse['details'];
  /** From Retry-After, when the service sent one (429, 503). */
  readonly retryAfterMs: number | undefined;

  constructor(status: number, body: Partial<ErrorResponse>, retryAfterMs?: number) {
    super(body.code ?? `HTTP_${status}`, body.message ?? `The service answered ${status}`);
    this.status = status;
    this.requestId = body.requestId;
    this.details = body.details;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The service could not be reached (refused, reset, DNS, or no answer within the timeout). */
export class ConnectionError extends Idea2SpecError {
  constructor(message: string, options?: { cause?: unknown; code?: 'CONNECTION_FAILED' | 'REQUEST_TIMEOUT' }) {
    super(options?.code ?? 'CONNECTION_FAILED', message, options);
  }
}

/** The job ended `failed`; `code` is the job's error code (e.g. GEMINI_TIMEOUT). */
export class JobFailedError extends Idea2SpecError {
  constructor(
    readonly jobId: string,
    readonly ideaId: number,
    readonly jobError: JobError | undefined,
    message: string,
  ) {
    super(jobError?.code ?? 'JOB_FAILED', message);
  }
}

export class JobCancelledError extends Idea2SpecError {
  constructor(
    readonly jobId: string,
    readonly ideaId: number,
  ) {
    super('JOB_CANCELLED', `Job ${jobId} was cancelled`);
  }
}
