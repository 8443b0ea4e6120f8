import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { migrationsFolder } from '../paths.js';
import * as schema from './schema.js';

export type Database = ReturnType<typeof drizzle<typeof schema>>;

export function isLocalUrl(url: string): boolean {
  return url.startsWith('file:') || url === ':memory:';
}

/** The file behind a `file:` URL; undefined for a remote or in-memory database. */
export function databaseFilePath(url: string): string | undefined {
  if (!url.startsWith('file:')) return undefined;
  return url.startsWith('file://') ? fileURLToPath(url) : url.slice('file:'.length).split('?')[0];
}

/** Opens the database, tunes an embedded file for a concurrent server (WAL), and applies pending migrations. */
export async function openDatabase(url: string, authToken?: string): Promise<{ client: Client; db: Database }> {
  const path = databaseFilePath(url);
  if (path !== undefined) mkdirSync(dirname(path), { recursive: true });
  const client = createClient({ url, authToken });
  try {
    if (isLocalUrl(url)) {
      await client.execute('PRAGMA journal_mode = WAL');
      await client.execute('PRAGMA synchronous = NORMAL');
      await client.execute('PRAGMA busy_timeout = 5000');
      await client.execute('PRAGMA foreign_keys = ON');
    }
    const db = drizzle(client, { schema });
    await migrate(db, { migrationsFolder });
    return { client, db };
  } catch (err) {
    client.close();
    throw err;
  }
}
