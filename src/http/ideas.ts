import type { IdeaRow, WebhookDeliveryRow } from '../db/schema.js';
import type { IdeaDetail, WebhookDelivery } from '../schemas/ideas.js';
import type { JobError } from '../schemas/jobs.js';
import { isoTime, isoTimeOrUndefined } from '../time.js';

/** A stored job error, as the API shows it; a finished job's error is final, so never retryable. */
export function storedError(row: Pick<IdeaRow, 'errorCode' | 'errorMessage'>): { error?: JobError } {
  return row.errorCode ? { error: { code: row.errorCode, message: row.errorMessage ?? '', retryable: false } } : {};
}

type IdeaRecordRow = Pick<
  IdeaRow,
  | 'id'
  | 'jobId'
  | 'status'
  | 'template'
  | 'generator'
  | 'model'
  | 'attempts'
  | 'errorCode'
  | 'errorMessage'
  | 'processingTimeMs'
  | 'outputLength'
  | 'createdAt'
  | 'updatedAt'
  | 'completedAt'
>;

/** The fields an idea shows alike in its detail and in history summaries. */
export function ideaRecordFields(row: IdeaRecordRow) {
  return {
    id: row.id,
    jobId: row.jobId,
    status: row.status,
    template: row.template,
    generator: row.generator,
    model: row.model,
    attempts: row.attempts,
    ...storedError(row),
    processingTimeMs: row.processingTimeMs,
    outputLength: row.outputLength,
    createdAt: isoTime(row.createdAt),
    updatedAt: isoTime(row.updatedAt),
    completedAt: isoTimeOrUndefined(row.completedAt),
  };
}

export function toIdeaDetail(row: IdeaRow): IdeaDetail {
  return { ...ideaRecordFields(row), userInput: row.userInput, generatedSpec: row.generatedSpec };
}

/** A positive id that fits the database; ids beyond 2^53 cannot exist and are simply not found. */
export function parseIdeaId(raw: string): number | undefined {
  const id = Number(raw);
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** How the idea shows its webhook. */
export function toWebhookDelivery(row: WebhookDeliveryRow): WebhookDelivery {
  return {
    url: row.url,
    status: row.status,
    attempts: row.attempts,
    ...(row.lastStatusCode !== null ? { lastStatusCode: row.lastStatusCode } : {}),
    ...(row.lastError !== null ? { lastError: row.lastError } : {}),
    ...(row.nextAttemptAt !== null && row.status === 'pending' ? { nextAttemptAt: isoTime(row.nextAttemptAt) } : {}),
    ...(row.deliveredAt !== null ? { deliveredAt: isoTime(row.deliveredAt) } : {}),
  };
}
