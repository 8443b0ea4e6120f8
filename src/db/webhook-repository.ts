import { and, asc, eq, inArray, lte } from 'drizzle-orm';
import { TERMINAL_STATUS_LIST } from '../jobs/transitions.js';
import type { Database } from './client.js';
import { ideas, webhookDeliveries, type WebhookDeliveryRow } from './schema.js';

/** Stored webhook deliveries: what is still owed to whom survives a restart. */
export function createWebhookRepository(db: Database) {
  return {
    async insert(
      row: Pick<WebhookDeliveryRow, 'ideaId' | 'jobId' | 'url' | 'webhookId'>,
      now = Date.now(),
    ): Promise<void> {
      await db
        .insert(webhookDeliveries)
        .values({ ...row, status: 'waiting', createdAt: now, updatedAt: now })
        .onConflictDoNothing();
    },

    async findByIdea(ideaId: number): Promise<WebhookDeliveryRow | undefined> {
      return db.query.webhookDeliveries.findFirst({ where: eq(webhookDeliveries.ideaId, ideaId) });
    },

    /** The job ended: its final event is stored and the delivery becomes due. False when another path did it first. */
    async markPending(ideaId: number, payload: string, now = Date.now()): Promise<boolean> {
      const updated = await db
        .update(webhookDeliveries)
        .set({ status: 'pending', payload, nextAttemptAt: now, updatedAt: now })
        .where(and(eq(webhookDeliveries.ideaId, ideaId), eq(webhookDeliveries.status, 'waiting')))
        .returning({ ideaId: webhookDeliveries.ideaId });
      return updated.length > 0;
    },

    async due(now: number, limit: number): Promise<WebhookDeliveryRow[]> {
      return db
        .select()
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, now)))
        .orderBy(asc(webhookDeliveries.nextAttemptAt))
        .limit(limit);
    },

    /** Deliveries still waiting for a job that has ended (a process that stopped between the two writes). */
    async waitingForFinishedJobs(): Promise<Array<{ ideaId: number }>> {
      return db
        .select({ ideaId: webhookDeliveries.ideaId })
        .from(webhookDeliveries)
        .innerJoin(ideas, eq(ideas.id, webhookDeliveries.ideaId))
        .where(and(eq(webhookDeliveries.status, 'waiting'), inArray(ideas.status, [...TERMINAL_STATUS_LIST])));
    },

    async recordAttempt(
      ideaId: number,
      patch: Pick<
        WebhookDeliveryRow,
        'status' | 'attempts' | 'nextAttemptAt' | 'lastStatusCode' | 'lastError' | 'deliveredAt'
      >,
      now = Date.now(),
    ): Promise<void> {
      await db
        .update(webhookDeliveries)
        .set({ ...patch, updatedAt: now })
        .where(eq(webhookDeliveries.ideaId, ideaId));
    },
  };
}

export type WebhookRepository = ReturnType<typeof createWebhookRepository>;
