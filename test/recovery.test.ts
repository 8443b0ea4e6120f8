import { join } from 'node:path';
import t from 'tap';
import { openDatabase } from '../src/db/client.js';
import { createIdeaRepository } from '../src/db/ideas-repository.js';
import { build, fakeGemini, submit, tempDir, waitFor, waitForJob } from './helper.js';

const IDEA = 'An app that splits household chores fairly between flatmates';

/** Writes rows as a crashed process would have left them. */
async function leaveBehind(
  file: string,
  rows: Array<{ status: 'queued' | 'started' | 'processing'; attempts: number; seq: number }>,
) {
  const { client, db } = await openDatabase(`file:${file}`);
  const ideas = createIdeaRepository(db);
  const now = Date.now();
  const inserted = [];
  for (const [i, row] of rows.entries()) {
    inserted.push(
      await ideas.insert({
        jobId: `00000000-0000-4000-8000-00000000000${i}`,
        userInput: `${IDEA} (${i})`,
        status: row.status,
        template: 'standard',
        generator: 'offline',
        attempts: row.attempts,
        generatedSpec: 'half a spec from before the crash',
        metadata: { seq: row.seq },
        createdAt: now,
        updatedAt: now,
      }),
    );
  }
  client.close();
  return inserted;
}

t.test('jobs left unfinished by a crash are recovered at start-up', async (t) => {
  const file = join(tempDir(t), 'crashed.db');
  const [processing, queued, exhausted] = await leaveBehind(file, [
    { status: 'processing', attempts: 1, seq: 7 },
    { status: 'queued', attempts: 0, seq: 1 },
    { status: 'processing', attempts: 3, seq: 9 },
  ]);
  const app = await build(t, { dbFile: file, config: { GEMINI_MAX_ATTEMPTS: 3 } });

  const done = await waitForJob(app, processing.jobId);
  t.equal(done.status, 'completed', 'a job that was processing runs again and completes');
  t.ok(done.seq > 7, 'its seq continues where it stopped, so subscribers see no reuse');
  const events = await app.jobEvents.after(processing.jobId, 7);
  t.equal(events[0].seq, 8);
  t.equal(events[0].message, 'Queued again after a restart');
  t.equal(events[0].status, 'queued');
  const spec = (await app.inject({ url: `/api/spec/${processing.id}` })).json();
  t.equal(spec.attempts, 2, 'the interrupted attempt counts');
  t.notMatch(spec.generatedSpec, /half a spec/);

  t.equal((await waitForJob(app, queued.jobId)).status, 'completed', 'a queued job runs');

  const failed = (await app.inject({ url: `/api/job/${exhausted.jobId}/status` })).json();
  t.equal(failed.status, 'failed', 'a job out of attempts is failed, not lost');
  t.match(failed.error, { code: 'INTERRUPTED' });
  t.match((await app.inject({ url: `/api/spec/${exhausted.id}` })).json().error, { code: 'INTERRUPTED' });
});

t.test('shutdown interrupts a running job and the next start finishes it', async (t) => {
  const file = join(tempDir(t), 'restart.db');
  const slow = fakeGemini(t, 'hang');
  const first = await build(t, {
    dbFile: file,
    config: { ...slow.config, GEMINI_TIMEOUT_MS: 60_000, SHUTDOWN_GRACE_MS: 100 },
    env: slow.env,
  });
  const accepted = (await submit(first, { idea: IDEA })).json();
  await waitFor(() => slow.calls().length > 0, { what: 'the CLI to start' });
  await first.close();

  const fast = fakeGemini(t, 'ok');
  const second = await build(t, { dbFile: file, config: fast.config, env: fast.env });
  const done = await waitForJob(second, accepted.jobId);
  t.equal(done.status, 'completed');
  const spec = (await second.inject({ url: `/api/spec/${accepted.id}` })).json();
  t.equal(spec.attempts, 1, 'the attempt cut short by shutdown is not held against the job');
  t.equal(spec.generatedSpec, '# Spec\n\n## Overview\nA fake spec.\n');
});

t.test('a recovered job waiting to run again is not found by the text its interrupted attempt left', async (t) => {
  const file = join(tempDir(t), 'crashed.db');
  const rows = await leaveBehind(file, [
    { status: 'processing', attempts: 1, seq: 7 },
    { status: 'processing', attempts: 1, seq: 5 },
  ]);
  // The generator hangs and there is one slot: the first job runs (and never ends), the second stays queued behind it.
  const fake = fakeGemini(t, 'hang');
  const app = await build(t, { dbFile: file, env: fake.env, config: { ...fake.config, JOB_CONCURRENCY: 1 } });
  const statuses = async () =>
    Promise.all(rows.map(async (row) => (await app.inject({ url: `/api/job/${row.jobId}/status` })).json().status));
  await waitFor(async () => (await statuses()).sort().join() === 'processing,queued', {
    what: 'one running, one queued',
  });
  await waitFor(
    async () => {
      const specs = await Promise.all(
        rows.map(async (row) => (await app.inject({ url: `/api/spec/${row.id}` })).json().generatedSpec),
      );
      return specs.every((text) => text === '');
    },
    { what: 'the rows to drop the partial texts' },
  );
  // The index catches up from its queue in the background: give it the time it takes to take a change.
  await waitFor(async () => (await app.inject({ url: '/api/history?search=chores' })).json().data.length === 2, {
    what: 'the ideas to be searchable',
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const found = (await app.inject({ url: '/api/history?search=crash' })).json();
  t.same(found.data, [], 'a half-written spec is not searchable as a finished one');
});
