import { desc, sql } from 'drizzle-orm';
import type { Database } from './client.js';
import { ideas } from './schema.js';

/**
 * Jobs older than this when they end are not counted as "ended in the last hour":
 * bounding created_at lets the (status, created_at) index answer without reading
 * the whole table, and no job lives that long (timeouts x attempts).
 */
const JOB_LIFETIME_BOUND_MS = 6 * 60 * 60 * 1000;

export interface RecentJob {
  jobId: string;
  id: number;
  status: (typeof ideas.$inferSelect)['status'];
  generator: string;
  attempts: number;
  errorCode: string | null;
  processingTimeMs: number | null;
  createdAt: number;
  completedAt: number | null;
}

/** Read-only views of the ideas table for health and the dashboard: counts and the latest jobs, never idea text. */
export function createJobActivityRepository(db: Database) {
  return {
    async endedSince(since: number): Promise<{ completed: number; failed: number }> {
      const [row] = await db.all<{ completed: number | null; failed: number | null }>(sql`
        SELECT SUM(status = 'completed') AS completed, SUM(status = 'failed') AS failed
        FROM ideas
        WHERE status IN ('completed', 'failed') AND created_at >= ${since - JOB_LIFETIME_BOUND_MS} AND completed_at >= ${since}`);
      return { completed: Number(row?.completed ?? 0), failed: Number(row?.failed ?? 0) };
    },

    async recent(limit: number): Promise<RecentJob[]> {
      return db
        .select({
          jobId: ideas.jobId,
          id: ideas.id,
          status: ideas.status,
          generator: ideas.generator,
          attempts: ideas.attempts,
          errorCode: ideas.errorCode,
          processingTimeMs: ideas.processingTimeMs,
          createdAt: ideas.createdAt,
          completedAt: ideas.completedAt,
        })
        .from(ideas)
        .orderBy(desc(ideas.createdAt), desc(ideas.id))
        .limit(limit);
    },
  };
}

export type JobActivityRepository = ReturnType<typeof createJobActivityRepository>;
