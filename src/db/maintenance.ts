import type { Client } from '@libsql/client';

/** Rows deleted per statement: each batch is a short write, so requests keep getting the database in between. */
const DELETE_BATCH = 5000;
const DAY_MS = 86_400_000;

export interface MaintenanceOptions {
  metricsRetentionDays: number;
  healthLogRetentionDays: number;
  /** An embedded file has a WAL this process may checkpoint; a remote server manages its own. */
  local: boolean;
  now?: number;
}

export interface MaintenanceResult {
  metricsDeleted: number;
  healthLogsDeleted: number;
}

async function deleteOlderThan(client: Client, table: 'performance_metrics' | 'health_logs', cutoff: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const result = await client.execute({
      sql: `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE created_at < :cutoff LIMIT :batch)`,
      args: { cutoff, batch: DELETE_BATCH },
    });
    deleted += result.rowsAffected;
    if (result.rowsAffected < DELETE_BATCH) return deleted;
  }
}

/**
 * Retention of metrics and health logs, fresh planner statistics, and a passive
 * WAL checkpoint. Never VACUUM: it rewrites the whole file under an exclusive
 * lock, which a serving instance cannot afford; freed pages are reused anyway.
 */
export async function runMaintenance(client: Client, options: MaintenanceOptions): Promise<MaintenanceResult> {
  const now = options.now ?? Date.now();
  const metricsDeleted = await deleteOlderThan(client, 'performance_metrics', now - options.metricsRetentionDays * DAY_MS);
  const healthLogsDeleted = await deleteOlderThan(client, 'health_logs', now - options.healthLogRetentionDays * DAY_MS);
  // Re-analyses only tables whose statistics have drifted; cheap when nothing changed.
  await client.execute('PRAGMA optimize');
  // PASSIVE never waits for readers or blocks writers; it copies what it can.
  if (options.local) await client.execute('PRAGMA wal_checkpoint(PASSIVE)');
  return { metricsDeleted, healthLogsDeleted };
}
