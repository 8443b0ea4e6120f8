import { Type, type Static } from '@sinclair/typebox';
import { TEMPLATE_NAMES } from '../generators/templates.js';
import { JOB_STATUSES } from '../jobs/transitions.js';
import { IsoDate } from './common.js';
import { UUID_PATTERN } from './formats.js';

export const JobStatus = Type.Union(JOB_STATUSES.map((s) => Type.Literal(s)));
export type JobStatus = Static<typeof JobStatus>;

export const TemplateName = Type.Union(
  TEMPLATE_NAMES.map((n) => Type.Literal(n)),
  { description: 'Which specification template to follow', default: 'standard' },
);

/** Model names go into the CLI's argv, so they are held to a strict shape: never a flag. */
export const ModelName = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
  description: 'Gemini model, e.g. gemini-2.5-flash',
});

export const JobError = Type.Object({
  code: Type.String(),
  message: Type.String(),
  retryable: Type.Boolean(),
});
export type JobError = Static<typeof JobError>;

export const JobProgress = Type.Object({
  chars: Type.Integer({ description: 'Characters of spec text so far (this attempt)' }),
  chunks: Type.Integer({ description: 'Text chunks received so far (this attempt)' }),
});

export const JobEvent = Type.Object(
  {
    type: Type.Literal('job-update'),
    jobId: Type.String({ format: 'uuid' }),
    ideaId: Type.Integer(),
    seq: Type.Integer({ minimum: 1, description: '1, 2, 3… per job, without gaps' }),
    status: JobStatus,
    timestamp: IsoDate,
    message: Type.String(),
    attempt: Type.Integer({ minimum: 0 }),
    progress: JobProgress,
    delta: Type.Optional(
      Type.String({
        description:
          'Text appended since the previous event. When attempt increases, the text starts again from empty.',
      }),
    ),
    error: Type.Optional(JobError),
    result: Type.Optional(Type.Object({ outputLength: Type.Integer(), processingTimeMs: Type.Integer() })),
  },
  { title: 'JobEvent' },
);
export type JobEvent = Static<typeof JobEvent>;

export const JobSnapshot = Type.Object(
  {
    jobId: Type.String({ format: 'uuid' }),
    id: Type.Integer({ description: 'The idea id' }),
    status: JobStatus,
    seq: Type.Integer({ minimum: 0, description: 'seq of the last event' }),
    attempt: Type.Integer({ minimum: 0 }),
    message: Type.String(),
    progress: JobProgress,
    text: Type.String({ description: 'The spec so far; the whole spec once completed' }),
    error: Type.Optional(JobError),
    createdAt: IsoDate,
    startedAt: Type.Optional(IsoDate),
    updatedAt: IsoDate,
    completedAt: Type.Optional(IsoDate),
  },
  { title: 'JobSnapshot' },
);
export type JobSnapshot = Static<typeof JobSnapshot>;

/** An idea's length, in characters (code points) after trimming; checked by the generate route. */
export const IDEA_MIN_CHARS = 10;
export const IDEA_MAX_CHARS = 5000;
export const WebhookUrl = Type.String({
  minLength: 1,
  maxLength: 2048,
  format: 'uri',
  description:
    'Told when the job ends: the final job-update event is POSTed here, signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature). https only (http when WEBHOOK_ALLOW_HTTP); private, loopback and link-local addresses are refused unless the host is in WEBHOOK_ALLOWED_HOSTS.',
});

export const GenerateBody = Type.Object(
  {
    idea: Type.String({
      minLength: 1,
      maxLength: 20000,
      description: `The product idea: ${IDEA_MIN_CHARS}–${IDEA_MAX_CHARS} characters a person can see (grapheme clusters, after trimming), any language and script. Stored exactly as sent; a NUL or an unpaired surrogate cannot be, and is a 400.`,
    }),
    template: Type.Optional(TemplateName),
    model: Type.Optional(ModelName),
    webhookUrl: Type.Optional(WebhookUrl),
  },
  { additionalProperties: false },
);
export type GenerateBody = Static<typeof GenerateBody>;

export const GenerateAccepted = Type.Object({
  jobId: Type.String({ format: 'uuid' }),
  id: Type.Integer(),
  status: JobStatus,
  statusUrl: Type.String({ description: 'Poll this for the job snapshot' }),
  eventsUrl: Type.String({ description: "The job's Server-Sent Events stream" }),
  websocketUrl: Type.String(),
});
export type GenerateAccepted = Static<typeof GenerateAccepted>;

/** UUIDs are case-insensitive; ours are stored in lower case, so every lookup goes through this. */
export const canonicalJobId = (jobId: string): string => jobId.toLowerCase();

export const JobIdParams = Type.Object({
  jobId: Type.String({
    format: 'uuid',
    pattern: UUID_PATTERN,
    description: 'The job id returned by POST /api/generate',
  }),
});
