import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import t from 'tap';
import { LOCK_WAIT_IN_SQLITE_MS, openDatabase } from '../src/db/client.js';
import { maintainIfDue, MAINTENANCE_LEASE } from '../src/db/maintenance.js';
import { migrationsFolder } from '../src/paths.js';
import { startInstances } from './fixtures/cluster.js';
import { fixture, tempDir, waitFor } from './helper.js';

const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as {
  entries: unknown[];
};
const SYNCHRONOUS_NORMAL = 1;

t.test(
  'every pooled connection gets its busy timeout (none: lock waits are retried outside SQLite) and synchronous = NORMAL, not only the first',
  async (t) => {
    const { client } = await openDatabase(`file:${join(tempDir(t), 'pool.db')}`);
    t.after(() => client.close());
    // Each open transaction holds a connection of its own, so three of them plus a plain call use four.
    const transactions = [
      await client.transaction('read'),
      await client.transaction('read'),
      await client.transaction('write'),
    ];
    t.after(() => transactions.forEach((tx) => tx.close()));
    const settings = async (run: (sql: string) => Promise<{ rows: Array<Record<string, unknown>> }>) => ({
      busyTimeout: Number(Object.values((await run('PRAGMA busy_timeout')).rows[0])[0]),
      synchronous: Number((await run('PRAGMA synchronous')).rows[0].synchronous),
      journal: String((await run('PRAGMA journal_mode')).rows[0].journal_mode),
    });
    const expected = { busyTimeout: LOCK_WAIT_IN_SQLITE_MS, synchronous: SYNCHRONOUS_NORMAL, journal: 'wal' };
    for (const [i, tx] of transactions.entries())
      t.same(await settings((sql) => tx.execute(sql)), expected, `transaction ${i + 1}`);
    t.same(await settings((sql) => client.execute(sql)), expected, 'a call beside them');
  },
);

t.test(
  "a write waits for another process's write transaction instead of failing with SQLITE_BUSY, without freezing the server",
  async (t) => {
    const url = `file:${join(tempDir(t), 'busy.db')}`;
    const { client } = await openDatabase(url);
    t.after(() => client.close());
    const holder = spawn(process.execPath, [fixture('hold-write-lock.mjs'), url, '1500'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    await new Promise<void>((resolve) => holder.stdout.on('data', (d) => String(d).includes('locked') && resolve()));
    // libsql would wait inside the call, and the event loop with it: the waits are between tries instead.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const result = await client.execute({
      sql: "INSERT INTO health_logs (service, status, latency_ms, details, created_at) VALUES ('waiter', 'OK', NULL, NULL, 2)",
    });
    clearInterval(ticker);
    t.equal(result.rowsAffected, 1, 'the write went through once the other process committed');
    t.ok(ticks > 0, `the event loop was served while the write waited (${ticks} timer ticks)`);
    t.equal(await exited, 0, 'the other process committed and exited cleanly');
    const { rows } = await client.execute('SELECT service FROM health_logs ORDER BY created_at');
    t.same(
      rows.map((r) => r.service),
      ['holder', 'waiter'],
      'no row lost',
    );
  },
);

t.test("a migration that meets another process's lock halfway waits for it, and the process lives on", async (t) => {
  const url = `file:${join(tempDir(t), 'migrate-busy.db')}`;
  const { client } = await openDatabase(url);
  t.after(() => client.close());
  const holder = spawn(process.execPath, [fixture('hold-write-lock.mjs'), url, '1000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => holder.stdout.on('data', (d) => String(d).includes('locked') && resolve()));
  // BEGIN DEFERRED takes no lock; the CREATE meets the other process's. Closing the refused connection at
  // once made the client's migrate() read `inTransaction` of a closed connection, which aborts the process.
  await client.migrate([{ sql: 'CREATE TABLE late_table (a INTEGER)', args: [] }]);
  const { rows } = await client.execute("SELECT name FROM sqlite_master WHERE name = 'late_table'");
  t.equal(rows.length, 1, 'the migration ran once the lock was gone');
});

t.test('five processes opening a fresh database at the same moment migrate it exactly once', async (t) => {
  const dir = tempDir(t);
  const url = `file:${join(dir, 'race.db')}`;
  const go = join(dir, 'go');
  const openers = Array.from({ length: 5 }, () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture('open-database.ts'), url, go], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    return { child, output: () => output, exit: new Promise<number | null>((resolve) => child.once('exit', resolve)) };
  });
  await waitFor(() => openers.every((o) => o.output().includes('ready')), {
    timeoutMs: 60_000,
    what: 'every opener loaded',
  });
  writeFileSync(go, '');
  const codes = await Promise.all(openers.map((o) => o.exit));
  for (const opener of openers) t.notMatch(opener.output(), /already exists|SQLITE_BUSY|Error/, 'no race');
  t.same(codes, [0, 0, 0, 0, 0], 'every one opened the database');
  const client = createClient({ url });
  t.after(() => client.close());
  t.equal(
    Number((await client.execute('SELECT count(*) AS n FROM __drizzle_migrations')).rows[0].n),
    journal.entries.length,
    'every migration recorded once',
  );
});

t.test('three instances starting at once on a fresh database migrate it once and all serve', async (t) => {
  const dbFile = join(tempDir(t), 'fresh.db');
  const [a, b, c] = await startInstances(t, 3, { TURSO_DATABASE_URL: `file:${dbFile}`, GENERATOR: 'offline' });
  for (const server of [a, b, c])
    t.notMatch(server.output, /already exists|SQLITE_BUSY/, 'no migration race in the log');

  const posted = await a.request('POST', '/api/generate?wait=true', {
    idea: 'A shared garden rota for a block of flats',
  });
  t.equal(posted.status, 200);
  t.equal(posted.body.status, 'completed');
  for (const server of [b, c]) {
    const read = await server.request('GET', `/api/spec/${posted.body.id}`);
    t.equal(
      read.body.generatedSpec,
      posted.body.generatedSpec,
      `the other instances read the same database (answered ${read.status}, ${read.body.status ?? read.body.code})`,
    );
  }

  const client = createClient({ url: `file:${dbFile}` });
  t.after(() => client.close());
  t.equal(
    Number((await client.execute('SELECT count(*) AS n FROM __drizzle_migrations')).rows[0].n),
    journal.entries.length,
    'every migration recorded once',
  );
  t.same(
    (await client.execute("SELECT name FROM leases WHERE name = 'migrations'")).rows,
    [],
    'the migration lease was released',
  );
});

t.test('two processes writing one database file lose no rows and never fail with SQLITE_BUSY', async (t) => {
  const dbFile = join(tempDir(t), 'shared.db');
  // Health samples and metrics flushes write often too, on top of the jobs' own writes.
  const env = {
    TURSO_DATABASE_URL: `file:${dbFile}`,
    GENERATOR: 'offline',
    HEALTH_SAMPLE_MS: '100',
    METRICS_FLUSH_MS: '50',
    JOB_CONCURRENCY: '4',
  };
  const servers = await startInstances(t, 2, env);
  const perServer = 20;
  const posts = await Promise.all(
    servers.flatMap((server, s) =>
      Array.from({ length: perServer }, (_, i) =>
        server.request('POST', '/api/generate', {
          idea: `Idea ${i} from instance ${s}: a tool library for a village hall`,
        }),
      ),
    ),
  );
  t.same(new Set(posts.map((p) => p.status)), new Set([202]), 'every idea accepted');

  const ids = posts.map((p) => p.body.id as number);
  t.equal(new Set(ids).size, 2 * perServer, 'each got its own row');
  for (const [i, post] of posts.entries()) {
    const owner = servers[Math.floor(i / perServer)];
    await waitFor(
      async () => (await owner.request('GET', `/api/job/${post.body.jobId}/status`)).body.status === 'completed',
      { timeoutMs: 60_000, what: `job ${post.body.jobId}` },
    );
  }
  for (const server of servers) {
    const history = await server.request('GET', '/api/history?limit=100&status=completed');
    t.equal(history.body.pagination.total, 2 * perServer, 'both instances see every completed idea');
    t.notMatch(server.output, /SQLITE_BUSY|database is locked/, 'no write failed on a lock');
  }
});

t.test('maintenance runs on one instance at a time, about once per interval across instances', async (t) => {
  const url = `file:${join(tempDir(t), 'maintenance.db')}`;
  const a = await openDatabase(url, undefined, { holder: 'instance-a' });
  const b = await openDatabase(url, undefined, { holder: 'instance-b' });
  t.after(() => [a.client.close(), b.client.close()]);
  const DAY = 86_400_000;
  const now = Date.now();
  await a.client.execute({
    sql: "INSERT INTO performance_metrics (route, method, status_code, duration_ms, created_at) VALUES ('/x', 'GET', 200, 1, ?)",
    args: [now - 30 * DAY],
  });
  const options = { metricsRetentionDays: 14, healthLogRetentionDays: 14, local: true, intervalMs: 60_000, now };

  const [fromA, fromB] = await Promise.all([
    maintainIfDue(a.client, a.leases, options),
    maintainIfDue(b.client, b.leases, options),
  ]);
  t.equal([fromA, fromB].filter(Boolean).length, 1, 'only one of two instances due at the same moment runs it');
  t.equal((fromA ?? fromB)?.metricsDeleted, 1, 'and that one did the work');
  const lease = await a.leases.read(MAINTENANCE_LEASE);
  t.equal(lease?.holder, fromA ? 'instance-a' : 'instance-b');
  t.equal(lease?.expiresAt, now + 54_000, 'kept for most of an interval');

  const other = fromA ? b : a;
  t.equal(
    await maintainIfDue(other.client, other.leases, { ...options, now: now + 30_000 }),
    undefined,
    'the other skips within the interval',
  );
  t.ok(
    await maintainIfDue(other.client, other.leases, { ...options, now: now + 60_000 }),
    'and runs it in the next one (or after the holder is gone)',
  );
});

t.test('a lease held by a crashed instance is taken over once it expires, not before', async (t) => {
  const url = `file:${join(tempDir(t), 'lease.db')}`;
  const a = await openDatabase(url, undefined, { holder: 'crashed' });
  const b = await openDatabase(url, undefined, { holder: 'survivor' });
  t.after(() => [a.client.close(), b.client.close()]);
  const now = Date.now();
  t.ok(await a.leases.acquire('job', 1000, now));
  t.notOk(await b.leases.acquire('job', 1000, now + 999), 'held');
  t.ok(await a.leases.acquire('job', 1000, now + 500), 'its holder may renew it');
  t.ok(await b.leases.acquire('job', 1000, now + 1500), 'taken over after expiry');
  t.notOk(await a.leases.holdUntil('job', now + 10_000), 'the old holder can no longer extend it');
  t.equal((await a.leases.read('job'))?.holder, 'survivor');
});
