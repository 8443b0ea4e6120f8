import { Type, type Static } from '@sinclair/typebox';
import { IsoDate } from './common.js';
import { JobError, JobStatus } from './jobs.js';

/** The state of the idea's webhook, when it asked for one. */
export const WebhookDelivery = Type.Object(
  {
    url: Type.String(),
    status: Type.Union(
      [Type.Literal('waiting'), Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')],
      {
        description:
          'waiting: the job has not ended; pending: being delivered or retried; delivered: a 2xx answer; failed: gave up (refused address, or WEBHOOK_MAX_ATTEMPTS reached)',
      },
    ),
    attempts: Type.Integer({ minimum: 0 }),
    lastStatusCode: Type.Optional(Type.Integer()),
    lastError: Type.Optional(Type.String()),
    nextAttemptAt: Type.Optional(IsoDate),
    deliveredAt: Type.Optional(IsoDate),
  },
  { title: 'WebhookDelivery' },
);
export type WebhookDelivery = Static<typeof WebhookDelivery>;

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
export const IdeaIdParams = Type.Object({
  id: Type.String({ pattern: '^[1-9][0-9]{0,19}$', description: 'Idea id (positive integer)' }),
});
