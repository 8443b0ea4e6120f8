import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './client.js';
import type { performanceMetrics } from './schema.js';

export type ResponseSample = Required<Omit<typeof performanceMetrics.$inferInsert, 'id'>>;

export interface LatencyStats {
  count: number;
  serverErrors: number;
  clientErrors: number;
  avgMs: number;
  maxMs: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface RouteStats extends LatencyStats {
  method: string;
  route: string;
}

export interface LatencyBucket extends LatencyStats {
  bucket: number;
}

/** Rows per INSERT: a batch, or a few when failed writes were put back in front of the buffer. */
const INSERT_BATCH = 1000;

/**
 * One bound JSON array of [route, method, status_code, duration_ms, created_at] tuples, unpacked by
 * SQLite in order. Cheaper in CPU than a multi-row VALUES list, whose thousands of bound values had
 * to be parsed and bound on every flush, and far cheaper than drizzle's query builder
 * (bench/health.bench.ts, metrics on vs off).
 */
const INSERT_SQL = `INSERT INTO performance_metrics (route, method, status_code, duration_ms, created_at)
  SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?)`;

/**
 * Percentiles by nearest rank (the ceil(p * n)-th smallest), per group, in one
 * pass of window functions: SQLite has no percentile aggregate.
 */
function latencyStats(source: SQL, partition: SQL, columns: SQL): SQL {
  return sql`
    WITH ranked AS (
      SELECT ${columns}, status_code, duration_ms,
             ROW_NUMBER() OVER (PARTITION BY ${partition} ORDER BY duration_ms) AS rn,
             COUNT(*) OVER (PARTITION BY ${partition}) AS n
      FROM (${source})
    )
    SELECT ${columns},
           n AS count,
           SUM(status_code >= 500) AS serverErrors,
           SUM(status_code >= 400 AND status_code < 500) AS clientErrors,
           AVG(duration_ms) AS avgMs,
           MAX(duration_ms) AS maxMs,
           MAX(CASE WHEN rn = (n * 50 + 99) / 100 THEN duration_ms END) AS p50,
           MAX(CASE WHEN rn = (n * 95 + 99) / 100 THEN duration_ms END) AS p95,
           MAX(CASE WHEN rn = (n * 99 + 99) / 100 THEN duration_ms END) AS p99
    FROM ranked
    GROUP BY ${partition}`;
}

/** performance_metrics: batched writes of response times, and the percentiles read back from them. */
export function createMetricsRepository(db: Database) {
  return {
    async insertMany(rows: ResponseSample[]): Promise<void> {
      for (let i = 0; i < rows.length; i += INSERT_BATCH) {
        const tuples = rows
          .slice(i, i + INSERT_BATCH)
          .map((r) => [r.route, r.method, r.statusCode, r.durationMs, r.createdAt]);
        await db.$client.execute({ sql: INSERT_SQL, args: [JSON.stringify(tuples)] });
      }
    },

    /** Per method and route pattern since `from`, busiest first. */
    async summary(from: number): Promise<RouteStats[]> {
      const source = sql`SELECT method, route, status_code, duration_ms FROM performance_metrics WHERE created_at >= ${from}`;
      const rows = await db.all<RouteStats>(
        sql`${latencyStats(source, sql`method, route`, sql`method, route`)} ORDER BY count DESC, route, method`,
      );
      return rows.map(numeric);
    },

    /** All routes together since `from`; undefined when nothing was recorded. */
    async overall(from: number): Promise<LatencyStats | undefined> {
      const source = sql`SELECT 0 AS all_routes, status_code, duration_ms FROM performance_metrics WHERE created_at >= ${from}`;
      const [row] = await db.all<LatencyStats>(latencyStats(source, sql`all_routes`, sql`all_routes`));
      return row ? numeric(row) : undefined;
    },

    /** Buckets of `bucketMs` from `from` (bucket 0) on; empty buckets are absent. */
    async series(from: number, bucketMs: number): Promise<LatencyBucket[]> {
      const source = sql`SELECT (created_at - CAST(${from} AS INTEGER)) / CAST(${bucketMs} AS INTEGER) AS bucket, status_code, duration_ms FROM performance_metrics WHERE created_at >= ${from}`;
      const rows = await db.all<LatencyBucket>(sql`${latencyStats(source, sql`bucket`, sql`bucket`)} ORDER BY bucket`);
      return rows.map(numeric);
    },
  };
}

/** SUM over an empty set and drivers' integer types: everything leaves as a plain number. */
function numeric<T extends object>(row: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row))
    out[key] = typeof value === 'bigint' ? Number(value) : value === null && key !== 'route' ? 0 : value;
  return out as T;
}

export type MetricsRepository = ReturnType<typeof createMetricsRepository>;
