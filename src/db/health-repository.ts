import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { migrationsFolder } from '../paths.js';
import type { Database } from './client.js';
import { healthLogs } from './schema.js';

export type HealthLogRow = typeof healthLogs.$inferInsert;

/** What the sampler stores in each `overall` row's details: the figures the dashboard charts. */
export interface OverallDetails {
  status: string;
  rssBytes: number;
  heapUsedBytes: number;
  queued: number;
  running: number;
  connections: number;
  eventLoopP99Ms: number;
  /** Jobs that ended since the previous sample. */
  completed: number;
  failed: number;
  cancelled: number;
}

export interface SystemBucket {
  bucket: number;
  rssBytes: number;
  heapUsedBytes: number;
  queued: number;
  running: number;
  completed: number;
  failed: number;
  cancelled: number;
}

/** The migration the code expects last: applied means the database has caught up with this build. */
const expectedMigrationAt = Math.max(0, ...readMigrationFiles({ migrationsFolder }).map((m) => m.folderMillis));

/** The sampler's probes and its health_logs. */
export function createHealthRepository(db: Database) {
  return {
    async ping(): Promise<void> {
      await db.run(sql`SELECT 1`);
    },

    async migrationsApplied(): Promise<boolean> {
      const [row] = await db.all<{ last: number | null }>(
        sql`SELECT MAX(created_at) AS last FROM __drizzle_migrations`,
      );
      return Number(row?.last ?? 0) >= expectedMigrationAt;
    },

    async insertLogs(rows: HealthLogRow[]): Promise<void> {
      if (rows.length > 0) await db.insert(healthLogs).values(rows);
    },

    /** The `overall` samples since `from`, in buckets of `bucketMs`: peaks for gauges, sums for job counts. */
    async systemSeries(from: number, bucketMs: number): Promise<SystemBucket[]> {
      const field = (name: keyof OverallDetails) => sql.raw(`json_extract(details, '$.${name}')`);
      const rows = await db.all<SystemBucket>(sql`
        SELECT (created_at - CAST(${from} AS INTEGER)) / CAST(${bucketMs} AS INTEGER) AS bucket,
               MAX(${field('rssBytes')}) AS rssBytes,
               MAX(${field('heapUsedBytes')}) AS heapUsedBytes,
               MAX(${field('queued')}) AS queued,
               MAX(${field('running')}) AS running,
               TOTAL(${field('completed')}) AS completed,
               TOTAL(${field('failed')}) AS failed,
               TOTAL(${field('cancelled')}) AS cancelled
        FROM health_logs
        WHERE service = 'overall' AND created_at >= ${from}
        GROUP BY bucket
        ORDER BY bucket`);
      return rows.map(
        (r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v ?? 0)])) as unknown as SystemBucket,
      );
    },
  };
}

export type HealthRepository = ReturnType<typeof createHealthRepository>;
