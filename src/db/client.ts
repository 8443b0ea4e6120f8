import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { newInstanceId } from '../instance-id.js';
import { migrationsFolder } from '../paths.js';
import { sleep } from '../time.js';
import { installConnectionSetup } from './connection-setup.js';
import { createLeases, withLease, type Leases } from './lease.js';
import * as schema from './schema.js';

export type Database = ReturnType<typeof drizzle<typeof schema>>;

/** How long a statement waits for another connection's (or process's) write lock on an embedded file before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * Migrating instances hold this lease; the others wait for it, then find nothing left to apply.
 * It is renewed while migrations run, so only a crashed migrator makes them wait out the TTL.
 */
const MIGRATION_LEASE = { ttlMs: 30_000, waitMs: 300_000, pollMs: 100 };

export function isLocalUrl(url: string): boolean {
  return url.startsWith('file:') || url === ':memory:';
}

/** The file behind a `file:` URL; undefined for a remote or in-memory database. */
export function databaseFilePath(url: string): string | undefined {
  if (!url.startsWith('file:')) return undefined;
  return url.startsWith('file://') ? fileURLToPath(url) : url.slice('file:'.length).split('?')[0];
}

/**
 * Several processes opening a new file at once: switching it to WAL needs an exclusive lock, and SQLite
 * refuses it at once (SQLITE_BUSY, without waiting the busy timeout) when another process is doing the same
 * (seen here: one instance of two started together exited with 'database is locked'). Tried again until
 * BUSY_TIMEOUT_MS has passed.
 */
async function busyRetried<T>(statement: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      return await statement();
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw err;
      await sleep(20 + Math.random() * 80);
    }
  }
}

export interface OpenDatabaseOptions {
  /** Who takes leases on this database (default: a fresh instance id). */
  holder?: string;
}

/**
 * Opens the database, tunes an embedded file for several connections and processes (WAL, a busy
 * timeout and synchronous = NORMAL on every connection), and applies pending migrations, once
 * across every instance starting at the same time.
 */
export async function openDatabase(
  url: string,
  authToken?: string,
  options: OpenDatabaseOptions = {},
): Promise<{ client: Client; db: Database; leases: Leases }> {
  const path = databaseFilePath(url);
  if (path !== undefined) mkdirSync(dirname(path), { recursive: true });
  const local = isLocalUrl(url);
  if (local) installConnectionSetup();
  const client = createClient({ url, authToken, timeout: BUSY_TIMEOUT_MS });
  try {
    if (local) {
      await busyRetried(() => client.execute('PRAGMA journal_mode = WAL'));
      // The connection that just switched a new file to WAL was set up before it was WAL; the others set themselves up.
      await busyRetried(() => client.execute('PRAGMA synchronous = NORMAL'));
    }
    const db = drizzle(client, { schema });
    const leases = createLeases(client, options.holder ?? newInstanceId());
    await leases.ensureTable();
    await withLease(leases, 'migrations', MIGRATION_LEASE, () => migrate(db, { migrationsFolder }));
    return { client, db, leases };
  } catch (err) {
    client.close();
    throw err;
  }
}
