import createError from '@fastify/error';

/** Errors the API answers with on purpose: a code, a status and a message template. */
export const Errors = {
  JobNotFound: createError('JOB_NOT_FOUND', 'Job %s not found', 404),
  IdeaNotFound: createError('IDEA_NOT_FOUND', 'Idea %s not found', 404),
  JobAlreadyFinished: createError('JOB_ALREADY_FINISHED', 'Job %s has already finished (%s)', 409),
  SpecNotReady: createError('SPEC_NOT_READY', 'The specification of idea %s is not completed (status: %s)', 409),
  QueueFull: createError('QUEUE_FULL', 'Too many jobs are waiting (%s); try again later', 503),
  GeneratorUnavailable: createError(
    'GENERATOR_UNAVAILABLE',
    'The generator keeps failing and is paused (circuit open); try again after %s',
    503,
  ),
  QueueUnavailable: createError('QUEUE_UNAVAILABLE', 'The job queue cannot be reached (%s); try again shortly', 503),
  ShuttingDown: createError('SHUTTING_DOWN', 'The service is shutting down; try again shortly', 503),
  InvalidNumber: createError('FST_ERR_VALIDATION', '%s must be a finite number', 400),
  InvalidIdea: createError('INVALID_IDEA', '%s', 400),
  IdempotencyConflict: createError(
    'IDEMPOTENCY_KEY_REUSED',
    'Idempotency-Key %s was already used with a different request',
    422,
  ),
  Unauthorized: createError('UNAUTHORIZED', '%s', 401),
  TooManyConnections: createError(
    'TOO_MANY_CONNECTIONS',
    'At most %s open WebSockets per client; close one and try again',
    429,
  ),
  InvalidCursor: createError('INVALID_CURSOR', 'The cursor is not valid here: %s', 400),
  DatabaseUnavailable: createError('DATABASE_UNAVAILABLE', 'The database is unavailable: %s', 503),
  InvalidWindow: createError('INVALID_WINDOW', '%s', 400),
  InvalidLastEventId: createError(
    'INVALID_LAST_EVENT_ID',
    'Last-Event-ID must be the seq of an event of this job, a non-negative integer (got "%s")',
    400,
  ),
  InvalidWebhookUrl: createError('INVALID_WEBHOOK_URL', 'webhookUrl is refused: %s', 400),
  WebhooksNotConfigured: createError(
    'WEBHOOKS_NOT_CONFIGURED',
    'This service sends no webhooks: its operator has not set WEBHOOK_SECRET',
    400,
  ),
} as const;
