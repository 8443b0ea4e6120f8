import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { newInstanceId } from '../instance-id.js';
import { migrationsFolder } from '../paths.js';
import { sleep } from '../time.js';
import { installConnectionSetup, isLockError } from './connection-setup.js';
import { createLeases, withLease, type Leases } from './lease.js';
import { boundedFetch } from './remote-fetch.js';
import * as schema from './schema.js';

export type Database = ReturnType<typeof drizzle<typeof schema>>;

/**
 * How long one statement waits inside SQLite for another process's write lock: not at all. libsql
 * waits inside the call, and the event loop with it, so that every write queued behind a lock held
 * for seconds elsewhere (another instance on a shared file, an operator's sqlite3 shell, a backup)
 * froze this server in turn (measured: a 100 ms wait per try, with writes queued every 50 ms,
 * held the loop for up to 0.7 s at a time). The waiting is done between tries instead (busyRetried).
 */
export const LOCK_WAIT_IN_SQLITE_MS = 0;

/** How long a database call keeps trying, with the event loop served between tries, before SQLITE_BUSY reaches its caller. */
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

const LOCK_RETRY_CAP_MS = 50;

/**
 * Calls the statement again while it fails with SQLITE_BUSY or SQLITE_LOCKED, until BUSY_TIMEOUT_MS
 * has passed. Safe to repeat: a statement or batch refused a lock has changed nothing, and the
 * connection it ran on is closed, which rolls back whatever it had begun (connection-setup.ts).
 */
async function busyRetried<T>(statement: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (let retry = 1; ; retry++) {
    try {
      return await statement();
    } catch (err) {
      if (!isLockError(err) || Date.now() > deadline) throw err;
      // 2, 4, 8… ms up to 50, each ±50%: a lock held for a moment is taken soon after it goes.
      await sleep(Math.min(2 ** retry, LOCK_RETRY_CAP_MS) * (0.5 + Math.random()));
    }
  }
}

/**
 * The calls of a client that run statements in one transaction (or begin one): each is retried as a
 * whole while the database is locked. Not executeMultiple: its statements commit one by one, so a
 * lock met halfway would have the first ones run twice.
 */
const STATEMENT_CALLS = new Set<PropertyKey>(['execute', 'batch', 'migrate', 'transaction']);

/**
 * The client, with every statement call waiting for another process's lock between tries (see
 * busyRetried) instead of inside SQLite. Everything else is the client's own.
 */
function lockPatient(client: Client): Client {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let bound = wrapped.get(property);
      if (bound === undefined) {
        const call = value as (...args: unknown[]) => unknown;
        bound = STATEMENT_CALLS.has(property)
          ? (...args: unknown[]) => busyRetried(async () => call.apply(target, args))
          : call.bind(target);
        wrapped.set(property, bound);
      }
      return bound;
    },
  });
}

export interface OpenDatabaseOptions {
  /** Who takes leases on this database (default: a fresh instance id). */
  holder?: string;
}

/**
 * Opens the database, tunes an embedded file for several connections and processes (WAL, a busy
 * timeout and synchronous = NORMAL on every connection) or bounds every request to a libSQL server
 * (remote-fetch.ts), and applies pending migrations, once across every instance starting at the same time.
 */
export async function openDatabase(
  url: string,
  authToken?: string,
  options: OpenDatabaseOptions = {},
): Promise<{ client: Client; db: Database; leases: Leases }> {
  const path = databaseFilePath(url);
  if (path !== undefined) mkdirSync(dirname(path), { recursive: true });
  const local = isLocalUrl(url);
  if (local) await installConnectionSetup();
  const settings = { url, authToken, timeout: LOCK_WAIT_IN_SQLITE_MS };
  // Creating the client runs a first statement, which meets another process's lock like any other.
  const remoteFetch = local ? undefined : boundedFetch();
  const client = local
    ? lockPatient(await busyRetried(async () => createClient(settings)))
    : createClient({ ...settings, fetch: remoteFetch });
  try {
    if (local) {
      // Several processes opening a new file at once: switching it to WAL needs an exclusive lock, which
      // SQLite refuses at once while another process does the same (retried like any locked statement).
      await client.execute('PRAGMA journal_mode = WAL');
      // The connection that just switched a new file to WAL was set up before it was WAL; the others set themselves up.
      await client.execute('PRAGMA synchronous = NORMAL');
    }
    const db = drizzle(client, { schema });
    const leases = createLeases(client, options.holder ?? newInstanceId());
    await leases.ensureTable();
    const migrateAll = () => migrate(db, { migrationsFolder });
    await withLease(leases, 'migrations', MIGRATION_LEASE, () =>
      remoteFetch ? remoteFetch.patiently(migrateAll) : migrateAll(),
    );
    return { client, db, leases };
  } catch (err) {
    client.close();
    throw err;
  }
}
