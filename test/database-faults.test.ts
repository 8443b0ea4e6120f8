import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, type Client } from '@libsql/client';
import t, { type Test } from 'tap';
import { isTerminal } from '../src/jobs/transitions.js';
import { assertDown, assertHealthy, assertUnavailable, storedWhenDone } from './fixtures/database-faults.js';
import { build, fakeGemini, fixture, submit, tempDir, waitFor, waitForJob } from './helper.js';

// The database misbehaves under a running service: every fault is a clear 503
// DATABASE_UNAVAILABLE (never a 500, never a crash), reads that can still be
// served are, and the service is whole again once the fault clears. Tests run
// as root, where chmod does not stop writes, so the faults are made by SQLite
// itself: query_only (a read-only database), a write lock held by another
// connection (a locked database) and max_page_count (a full disk).

const IDEA = { idea: 'A volunteer rota for a community food bank' };

async function setup(t: Test) {
  const dbFile = join(tempDir(t), 'faults.db');
  const app = await build(t, { dbFile });
  const first = (await submit(app, IDEA)).json();
  await waitForJob(app, first.jobId);
  return { app, dbFile, first };
}

async function assertRecovered(t: Test, app: Awaited<ReturnType<typeof build>>) {
  const res = await submit(app, { idea: `${IDEA.idea}, after the fault` });
  t.equal(res.statusCode, 202, 'accepting ideas again');
  t.equal((await waitForJob(app, res.json().jobId)).status, 'completed');
}

t.test('a read-only database: submissions get 503, reads still work, and it recovers', async (t) => {
  const { app, first } = await setup(t);
  await app.dbClient.execute('PRAGMA query_only = ON');
  assertUnavailable(t, await submit(app, IDEA), 'submit while read-only');
  assertUnavailable(t, await submit(app, IDEA), 'and again: the service did not crash');
  t.equal((await app.inject({ method: 'GET', url: `/api/spec/${first.id}` })).statusCode, 200, 'reads are served');
  await app.dbClient.execute('PRAGMA query_only = OFF');
  await assertRecovered(t, app);
});

t.test('a database locked by another writer: 503 once the busy timeout runs out, then recovery', async (t) => {
  const { app, dbFile, first } = await setup(t);
  await app.dbClient.execute('PRAGMA busy_timeout = 50');
  const other = createClient({ url: `file:${dbFile}` });
  t.after(() => other.close());
  const lock = await other.transaction('write');
  await lock.execute({ sql: 'UPDATE ideas SET updated_at = updated_at WHERE id = ?', args: [first.id] });

  assertUnavailable(t, await submit(app, IDEA), 'submit while locked');
  t.equal(
    (await app.inject({ method: 'GET', url: `/api/job/${first.jobId}/status` })).statusCode,
    200,
    'WAL readers are not blocked',
  );
  await lock.rollback();
  await assertRecovered(t, app);
});

t.test('a full disk: 503, then recovery once there is room', async (t) => {
  const { app } = await setup(t);
  const pages = Number((await app.dbClient.execute('PRAGMA page_count')).rows[0][0]);
  await app.dbClient.execute(`PRAGMA max_page_count = ${pages}`);
  const big = { idea: `A diary app. ${'Notes on every feature and every screen of the app. '.repeat(90)}` };
  assertUnavailable(t, await submit(app, big), 'submit while full');
  await app.dbClient.execute('PRAGMA max_page_count = 1073741823');
  await assertRecovered(t, app);
});

/**
 * PRAGMA query_only on every connection of the client. It reaches only the connection that runs it,
 * and @libsql/client keeps a pool of up to 20 (its default concurrency): set through one, a write
 * through another landed. Twenty open transactions hold all of them at once.
 */
async function queryOnly(client: Client, on: boolean): Promise<void> {
  const transactions = await Promise.all(Array.from({ length: 20 }, () => client.transaction('read')));
  for (const tx of transactions) await tx.execute(`PRAGMA query_only = ${on ? 'ON' : 'OFF'}`);
  for (const tx of transactions) tx.close();
}

t.test('a job that finishes while the database is read-only is written once it is writable again', async (t) => {
  const fake = fakeGemini(t, 'ok', { GEMINI_FAKE_DELAY_MS: '300' });
  const dbFile = join(tempDir(t), 'late-write.db');
  const app = await build(t, { dbFile, config: fake.config, env: fake.env });
  const accepted = (await submit(app, IDEA)).json();
  await waitFor(() => fake.calls().length > 0, { what: 'the CLI to start' });
  await queryOnly(app.dbClient, true);
  await waitFor(async () => isTerminal((await app.jobs.snapshot(accepted.jobId))?.status ?? 'queued'), {
    what: 'the job to end in memory',
  });
  t.equal((await app.ideas.findById(accepted.id))!.status, 'processing', 'the row could not be written yet');
  await queryOnly(app.dbClient, false);
  const row = await waitFor(
    async () => {
      const r = await app.ideas.findById(accepted.id);
      return r?.status === 'completed' ? r : undefined;
    },
    { what: 'the delayed write' },
  );
  t.equal(row.generatedSpec, '# Spec\n\n## Overview\nA fake spec.\n', 'the whole spec landed');
});

/**
 * Another process holding the database's write lock (test/fixtures/hold-write-lock.mjs) until it is
 * killed with SIGKILL: it never commits, the operating system drops its lock.
 */
async function lockHolder(t: Test, dbFile: string) {
  const holder = spawn(process.execPath, [fixture('hold-write-lock.mjs'), `file:${dbFile}`, '600000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => holder.kill('SIGKILL'));
  await once(holder.stdout, 'data');
  return {
    async kill() {
      holder.kill('SIGKILL');
      if (holder.exitCode === null && holder.signalCode === null) await once(holder, 'exit');
    },
  };
}

/** What another connection sees: a write the service believes done but never committed is not there. */
async function committedRow(t: Test, dbFile: string, id: number) {
  const other = createClient({ url: `file:${dbFile}` });
  t.teardown(() => other.close());
  const res = await other.execute({ sql: 'SELECT status, generated_spec FROM ideas WHERE id = ?', args: [id] });
  return res.rows[0] as unknown as { status: string; generated_spec: string | null } | undefined;
}

t.test(
  'a write that waited out the busy timeout behind another process leaves nothing open: later writes are committed',
  async (t) => {
    const { app, dbFile } = await setup(t);
    const holder = await lockHolder(t, dbFile);
    assertUnavailable(t, await submit(app, IDEA), 'submit while another process holds the lock');
    await holder.kill();
    const res = await submit(app, { idea: `${IDEA.idea}, once the other process is gone` });
    t.equal(res.statusCode, 202, 'accepting ideas again');
    const { id, jobId } = res.json();
    t.equal((await waitForJob(app, jobId)).status, 'completed');
    const row = await waitFor(
      async () => {
        const r = await committedRow(t, dbFile, id);
        return r?.status === 'completed' ? r : undefined;
      },
      { what: 'another connection to see the finished row' },
    );
    t.match(row.generated_spec, /\S/, 'with its spec');
    const other = createClient({ url: `file:${dbFile}` });
    t.teardown(() => other.close());
    await other.execute('PRAGMA busy_timeout = 1000');
    await other.execute({ sql: 'UPDATE ideas SET updated_at = updated_at WHERE id = ?', args: [id] });
    t.pass('another connection can write: the service holds no lock');
  },
);

t.test(
  'a job that ends while another process holds the write lock is stored once that process is killed',
  async (t) => {
    // The CLI answers once the other process has the lock.
    const dir = tempDir(t);
    const gate = join(dir, 'gate');
    const fake = fakeGemini(t, 'ok', { GEMINI_FAKE_GATE: gate });
    const dbFile = join(dir, 'held.db');
    const app = await build(t, { dbFile, config: fake.config, env: fake.env });
    const accepted = (await submit(app, IDEA)).json();
    await waitFor(() => fake.calls().length > 0, { what: 'the CLI to start' });
    const holder = await lockHolder(t, dbFile);
    t.equal((await committedRow(t, dbFile, accepted.id))?.status, 'processing', 'the lock was taken while it ran');
    writeFileSync(gate, '');
    await waitFor(async () => isTerminal((await app.jobs.snapshot(accepted.jobId))?.status ?? 'queued'), {
      what: 'the job to end in memory',
    });
    // At least one row write waits out the busy timeout and fails before the lock goes.
    await waitFor(() => app.jobs.rowWriteFailure(), { what: 'a failed row write', timeoutMs: 30_000 });
    await holder.kill();
    const row = await waitFor(
      async () => {
        const r = await committedRow(t, dbFile, accepted.id);
        return r?.status === 'completed' ? r : undefined;
      },
      { what: 'the finished row, committed', timeoutMs: 30_000 },
    );
    t.equal(row.generated_spec, '# Spec\n\n## Overview\nA fake spec.\n', 'the whole spec landed');
  },
);

// The fault outlasts any fixed budget of retries (the old one gave up after 2.5 s per write, 5 s for two chained writes).
const OUTAGE_MS = 8000;

/** Whether this machine lets the test make a real fault (mount a small tmpfs, chattr +i): root with the capability. */
function allowed(make: (dir: string) => void, undo: (dir: string) => void): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'idea2spec-probe-'));
  try {
    make(dir);
    undo(dir);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const run = (command: string, ...args: string[]) => execFileSync(command, args, { stdio: 'ignore' });
const canMount = allowed(
  (d) => run('mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', d),
  (d) => run('umount', d),
);
const canChattr = allowed(
  (d) => run('chattr', '+i', d),
  (d) => run('chattr', '-i', d),
);

/** An 8 MB tmpfs for the database, unmounted when the test ends. */
function smallDisk(t: Test): string {
  const dir = tempDir(t);
  run('mount', '-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir);
  t.teardown(() => run('umount', '-l', dir));
  return dir;
}

/** Fills the filesystem under dir to the last byte; returns the filler to delete. */
function fillDisk(dir: string): string {
  const filler = join(dir, 'filler');
  const block = Buffer.alloc(64 * 1024, 1);
  const fd = openSync(filler, 'w');
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return filler;
}

t.test(
  'a full disk while a spec streams: the finished job lands once there is room',
  { skip: canMount ? false : 'mounting a small tmpfs needs root with CAP_SYS_ADMIN' },
  async (t) => {
    const disk = smallDisk(t);
    const chunks = Array.from(
      { length: 12 },
      (_, i) => `## Part ${i}\n${'Every screen, every rule and every edge case of the app. '.repeat(150)}\n`,
    );
    const fake = fakeGemini(t, 'ok', { GEMINI_FAKE_DELAY_MS: '100', GEMINI_FAKE_CHUNKS: JSON.stringify(chunks) });
    const app = await build(t, {
      dbFile: join(disk, 'full.db'),
      config: { ...fake.config, HEALTH_SAMPLE_MS: 100 },
      env: fake.env,
    });
    const accepted = (await submit(app, IDEA)).json();
    await waitFor(() => fake.calls().length > 0, { what: 'the CLI to start' });
    const filler = fillDisk(disk);
    await waitFor(async () => isTerminal((await app.jobs.snapshot(accepted.jobId))?.status ?? 'queued'), {
      what: 'the job to end in memory',
    });
    await assertDown(t, app, /writes fail/);
    await sleep(OUTAGE_MS);
    t.not((await app.ideas.findById(accepted.id))!.status, 'completed', 'not stored while the disk is full');
    rmSync(filler);
    const row = await storedWhenDone(app, accepted.id);
    t.equal(row.generatedSpec, chunks.join(''), 'the whole spec landed');
    t.equal(fake.calls().length, 1, 'the generator ran once');
    await assertHealthy(t, app);
  },
);

t.test(
  'a database file made immutable: health is DOWN and not ready until it is writable again',
  { skip: canChattr ? false : 'chattr +i needs root with CAP_LINUX_IMMUTABLE' },
  async (t) => {
    const dbFile = join(tempDir(t), 'immutable.db');
    const app = await build(t, { dbFile, config: { HEALTH_SAMPLE_MS: 100 } });
    await assertHealthy(t, app);
    run('chattr', '+i', dbFile);
    // Registered after build(), so it runs before the temporary directory is removed.
    t.teardown(() => run('chattr', '-i', dbFile));
    await assertDown(t, app, /immutable\.db is not writable/);
    run('chattr', '-i', dbFile);
    await assertHealthy(t, app);
  },
);

t.test(
  'a database file deleted under the running service: health is DOWN and not ready, naming the file',
  async (t) => {
    const dbFile = join(tempDir(t), 'deleted.db');
    const app = await build(t, { dbFile, config: { HEALTH_SAMPLE_MS: 100 } });
    await assertHealthy(t, app);
    rmSync(dbFile);
    await assertDown(t, app, /deleted\.db is gone/);
  },
);
