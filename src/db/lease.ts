import type { Client } from '@libsql/client';
import { isoTime } from '../time.js';

/**
 * Leases: named, expiring locks in the database itself, so instances that share one
 * database (a libSQL file or a sqld/Turso server) need nothing else to agree on who
 * migrates and who runs maintenance. One statement takes a lease, so two instances
 * racing for it cannot both win, on a file or on a server.
 *
 * The table is created before migrating (its lock guards the migrations), so it is not
 * a drizzle migration; drizzle-kit leaves it alone through `tablesFilter`.
 */
export const CREATE_LEASES_TABLE = `CREATE TABLE IF NOT EXISTS leases (
  name TEXT PRIMARY KEY NOT NULL,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
)`;

export interface LeaseRow {
  name: string;
  holder: string;
  expiresAt: number;
}

export function createLeases(client: Client, holder: string) {
  return {
    holder,

    ensureTable: async (): Promise<void> => {
      await client.execute(CREATE_LEASES_TABLE);
    },

    /** Takes the lease until now + ttlMs when it is free, expired, or already ours; false when another holds it. */
    acquire: async (name: string, ttlMs: number, now = Date.now()): Promise<boolean> => {
      const result = await client.execute({
        sql: `INSERT INTO leases (name, holder, expires_at) VALUES (:name, :holder, :until)
              ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
              WHERE leases.expires_at <= :now OR leases.holder = excluded.holder`,
        args: { name, holder, until: now + ttlMs, now },
      });
      return result.rowsAffected === 1;
    },

    /** Moves our lease's expiry (to renew it, or to keep others out until then); false when it is no longer ours. */
    holdUntil: async (name: string, until: number): Promise<boolean> => {
      const result = await client.execute({
        sql: 'UPDATE leases SET expires_at = :until WHERE name = :name AND holder = :holder',
        args: { name, holder, until },
      });
      return result.rowsAffected === 1;
    },

    release: async (name: string): Promise<void> => {
      await client.execute({
        sql: 'DELETE FROM leases WHERE name = :name AND holder = :holder',
        args: { name, holder },
      });
    },

    read: async (name: string): Promise<LeaseRow | undefined> => {
      const { rows } = await client.execute({
        sql: 'SELECT name, holder, expires_at FROM leases WHERE name = :name',
        args: { name },
      });
      return rows[0]
        ? { name: String(rows[0].name), holder: String(rows[0].holder), expiresAt: Number(rows[0].expires_at) }
        : undefined;
    },
  };
}

export type Leases = ReturnType<typeof createLeases>;

export interface WithLeaseOptions {
  /** How long the lease lasts without renewal: how long a crashed holder keeps the others waiting. */
  ttlMs: number;
  /** How long to wait for another holder before giving up. */
  waitMs: number;
  pollMs?: number;
}

/**
 * Runs fn while holding the lease, waiting for it when another instance holds it, renewing it
 * while fn runs (so a slow fn keeps it and a crashed holder loses it after ttlMs), then releases it.
 */
export async function withLease<T>(
  leases: Leases,
  name: string,
  options: WithLeaseOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + options.waitMs;
  while (!(await leases.acquire(name, options.ttlMs))) {
    if (Date.now() > deadline) {
      const row = await leases.read(name);
      throw new Error(
        `the "${name}" lease is still held by ${row?.holder ?? 'another instance'} after ${options.waitMs} ms; if that instance is gone, it expires at ${row ? isoTime(row.expiresAt) : 'once released'}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
  }
  let renewing: Promise<unknown> = Promise.resolve();
  const renew = setInterval(
    () => {
      renewing = leases.holdUntil(name, Date.now() + options.ttlMs).catch(() => false);
    },
    Math.max(50, options.ttlMs / 3),
  );
  renew.unref();
  try {
    return await fn();
  } finally {
    clearInterval(renew);
    await renewing;
    await leases.release(name);
  }
}
