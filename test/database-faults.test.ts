import { join } from 'node:path';
import { createClient } from '@libsql/client';
import t, { type Test } from 'tap';
import { isTerminal } from '../src/jobs/transitions.js';
import { build, fakeGemini, submit, tempDir, waitFor, waitForJob } from './helper.js';

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

function assertUnavailable(t: Test, res: { statusCode: number; json(): any }, what: string) {
  t.equal(res.statusCode, 503, what);
  const body = res.json();
  t.match(body, { statusCode: 503, code: 'DATABASE_UNAVAILABLE', error: 'Service Unavailable', requestId: String }, what);
  t.notMatch(body.message, /SQLITE|insert|ideas|Failed query/i, 'no internals leak');
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
  t.equal((await app.inject({ method: 'GET', url: `/api/job/${first.jobId}/status` })).statusCode, 200, 'WAL readers are not blocked');
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

t.test('a job that finishes while the database is read-only is written once it is writable again', async (t) => {
  const fake = fakeGemini(t, 'ok', { GEMINI_FAKE_DELAY_MS: '300' });
  const dbFile = join(tempDir(t), 'late-write.db');
  const app = await build(t, { dbFile, config: fake.config, env: fake.env });
  const accepted = (await submit(app, IDEA)).json();
  await waitFor(() => fake.calls().length > 0, { what: 'the CLI to start' });
  await app.dbClient.execute('PRAGMA query_only = ON');
  await waitFor(async () => isTerminal((await app.jobs.snapshot(accepted.jobId))?.status ?? 'queued'), {
    what: 'the job to end in memory',
  });
  t.equal((await app.ideas.findById(accepted.id))!.status, 'processing', 'the row could not be written yet');
  await app.dbClient.execute('PRAGMA query_only = OFF');
  const row = await waitFor(async () => {
    const r = await app.ideas.findById(accepted.id);
    return r?.status === 'completed' ? r : undefined;
  }, { what: 'the delayed write' });
  t.equal(row.generatedSpec, '# Spec\n\n## Overview\nA fake spec.\n', 'the whole spec landed');
});
