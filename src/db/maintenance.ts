import type { Client } from '@libsql/client';
import { DAY_MS } from '../time.js';
import type { Leases } from './lease.js';

/** Rows deleted per statement: each batch is a short write, so requests keep getting the database in between. */
const DELETE_BATCH = 5000;

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

async function deleteOlderThan(
  client: Client,
  table: 'performance_metrics' | 'health_logs',
  cutoff: number,
): Promise<number> {
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
  const metricsDeleted = await deleteOlderThan(
    client,
    'performance_metrics',
    now - options.metricsRetentionDays * DAY_MS,
  );
  const healthLogsDeleted = await deleteOlderThan(client, 'health_logs', now - options.healthLogRetentionDays * DAY_MS);
  // Re-analyses only tables whose statistics have drifted; cheap when nothing changed.
  await client.execute('PRAGMA optimize');
  // PASSIVE never waits for readers or blocks writers; it copies what it can.
  if (options.local) await client.execute('PRAGMA wal_checkpoint(PASSIVE)');
  return { metricsDeleted, healthLogsDeleted };
}

/** Longest a maintenance run may keep its lease; beyond it (a crashed instance) another instance may start one. */
const MAINTENANCE_RUN_TTL_MS = 10 * 60_000;
export const MAINTENANCE_LEASE = 'maintenance';

/**
 * Maintenance for a whole cluster: the instance that takes the lease runs it, and keeps the
 * lease for most of an interval afterwards, so N instances sharing one database run it about
 * once per interval in total, and never two at a time. Undefined when another instance has it.
 */
export async function maintainIfDue(
  client: Client,
  leases: Leases,
  options: MaintenanceOptions & { intervalMs: number },
): Promise<MaintenanceResult | undefined> {
  const started = options.now ?? Date.now();
  if (!(await leases.acquire(MAINTENANCE_LEASE, MAINTENANCE_RUN_TTL_MS, started))) return undefined;
  try {
    const result = await runMaintenance(client, options);
    await leases.holdUntil(MAINTENANCE_LEASE, started + Math.floor(options.intervalMs * 0.9));
    return result;
  } catch (err) {
    // Another instance may try at once rather than after the run's TTL.
    await leases.release(MAINTENANCE_LEASE).catch(() => {});
    throw err;
  }
}
