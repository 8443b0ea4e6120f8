import { sql } from 'drizzle-orm';
import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { JOB_STATUSES } from '../jobs/transitions.js';

/** Times are integer milliseconds since the epoch; the API serves them as ISO 8601. */
const millis = (name: string) => integer(name, { mode: 'number' });

export const ideas = sqliteTable(
  'ideas',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    jobId: text('job_id').notNull().unique(),
    userInput: text('user_input').notNull(),
    generatedSpec: text('generated_spec').notNull().default(''),
    status: text('status', { enum: JOB_STATUSES }).notNull(),
    template: text('template').notNull(),
    generator: text('generator').notNull(),
    model: text('model'),
    attempts: integer('attempts').notNull().default(0),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    processingTimeMs: integer('processing_time_ms'),
    outputLength: integer('output_length').notNull().default(0),
    metadata: text('metadata', { mode: 'json' })
      .$type<Record<string, unknown>>()
      .notNull()
      .default(sql`'{}'`),
    idempotencyKey: text('idempotency_key').unique(),
    createdAt: millis('created_at').notNull(),
    updatedAt: millis('updated_at').notNull(),
    startedAt: millis('started_at'),
    completedAt: millis('completed_at'),
  },
  (t) => [
    index('ideas_created_idx').on(t.createdAt, t.id),
    index('ideas_status_created_idx').on(t.status, t.createdAt, t.id),
    // Percentiles of processing time read an ordered index instead of sorting every completed idea.
    index('ideas_completed_time_idx')
      .on(t.processingTimeMs)
      .where(sql`status = 'completed' AND processing_time_ms IS NOT NULL`),
  ],
);

/**
 * Running totals per status, kept by triggers (drizzle/0002_search_index.sql), so
 * history totals and stats never count 100,000 rows per request.
 */
export const ideaStatusCounts = sqliteTable('idea_status_counts', {
  status: text('status').primaryKey(),
  ideas: integer('ideas').notNull().default(0),
  processingMsTotal: integer('processing_ms_total').notNull().default(0),
  processingCount: integer('processing_count').notNull().default(0),
});

export const performanceMetrics = sqliteTable(
  'performance_metrics',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    route: text('route').notNull(),
    method: text('method').notNull(),
    statusCode: integer('status_code').notNull(),
    durationMs: real('duration_ms').notNull(),
    createdAt: millis('created_at').notNull(),
  },
  (t) => [index('performance_metrics_created_idx').on(t.createdAt)],
);

export const healthLogs = sqliteTable(
  'health_logs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    service: text('service').notNull(),
    status: text('status').notNull(),
    latencyMs: real('latency_ms'),
    details: text('details', { mode: 'json' }).$type<Record<string, unknown>>(),
    createdAt: millis('created_at').notNull(),
  },
  (t) => [
    index('health_logs_created_idx').on(t.createdAt),
    index('health_logs_service_created_idx').on(t.service, t.createdAt),
  ],
);

/**
 * One webhook per idea that asked for one (drizzle/0006_webhook_deliveries.sql). `waiting` until the
 * job ends, then `pending` with the final event stored, so a restart resumes the delivery; `delivered`
 * or `failed` once settled. The webhook id stays the same across retries, so receivers can deduplicate.
 */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    ideaId: integer('idea_id')
      .primaryKey()
      .references(() => ideas.id, { onDelete: 'cascade' }),
    jobId: text('job_id').notNull(),
    url: text('url').notNull(),
    webhookId: text('webhook_id').notNull(),
    status: text('status', { enum: ['waiting', 'pending', 'delivered', 'failed'] }).notNull(),
    payload: text('payload'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: millis('next_attempt_at'),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    createdAt: millis('created_at').notNull(),
    updatedAt: millis('updated_at').notNull(),
    deliveredAt: millis('delivered_at'),
  },
  (t) => [index('webhook_deliveries_due_idx').on(t.status, t.nextAttemptAt)],
);

export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;

export type IdeaRow = typeof ideas.$inferSelect;
export type NewIdeaRow = typeof ideas.$inferInsert;
export type IdeaStatus = IdeaRow['status'];
