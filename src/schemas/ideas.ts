import { Type, type Static } from '@sinclair/typebox';
import type { IdeaRow, WebhookDeliveryRow } from '../db/schema.js';
import { IsoDate, isoTime, isoTimeOrUndefined } from './common.js';
import { JobError, JobStatus } from './jobs.js';

/** The state of the idea's webhook, when it asked for one. */
export const WebhookDelivery = Type.Object(
  {
    url: Type.String(),
    status: Type.Union([Type.Literal('waiting'), Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')], {
      description: 'waiting: the job has not ended; pending: being delivered or retried; delivered: a 2xx answer; failed: gave up (refused address, or WEBHOOK_MAX_ATTEMPTS reached)',
    }),
    attempts: Type.Integer({ minimum: 0 }),
    lastStatusCode: Type.Optional(Type.Integer()),
    lastError: Type.Optional(Type.String()),
    nextAttemptAt: Type.Optional(IsoDate),
    deliveredAt: Type.Optional(IsoDate),
  },
  { title: 'WebhookDelivery' },
);
export type WebhookDelivery = Static<typeof WebhookDelivery>;

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

export const IdeaDetail = Type.Object(
  {
    id: Type.Integer(),
    jobId: Type.String({ format: 'uuid' }),
    userInput: Type.String({ description: 'The idea exactly as submitted' }),
    generatedSpec: Type.String({ description: 'Markdown; partial while the job runs' }),
    status: JobStatus,
    template: Type.String(),
    generator: Type.String({ description: 'gemini, command or offline' }),
    model: Type.Union([Type.String(), Type.Null()]),
    attempts: Type.Integer(),
    error: Type.Optional(JobError),
    processingTimeMs: Type.Union([Type.Integer(), Type.Null()]),
    outputLength: Type.Integer(),
    createdAt: IsoDate,
    updatedAt: IsoDate,
    completedAt: Type.Optional(IsoDate),
    webhook: Type.Optional(WebhookDelivery),
  },
  { title: 'IdeaDetail' },
);
export type IdeaDetail = Static<typeof IdeaDetail>;

/** Ids are positive integers written in plain decimal without leading zeros; anything else is a 400, never a 500. */
export const IdeaIdParams = Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,19}$', description: 'Idea id (positive integer)' }) });

/** A stored job error, as the API shows it; a finished job's error is final, so never retryable. */
export function storedError(row: Pick<IdeaRow, 'errorCode' | 'errorMessage'>): { error?: JobError } {
  return row.errorCode ? { error: { code: row.errorCode, message: row.errorMessage ?? '', retryable: false } } : {};
}

type IdeaRecordRow = Pick<
  IdeaRow,
  'id' | 'jobId' | 'status' | 'template' | 'generator' | 'model' | 'attempts' | 'errorCode' | 'errorMessage' | 'processingTimeMs' | 'outputLength' | 'createdAt' | 'updatedAt' | 'completedAt'
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
