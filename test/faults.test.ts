import { chmodSync, copyFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import {
  baseUrl,
  build,
  fakeGemini,
  fixture,
  submit,
  tempDir,
  waitFor,
  waitForJob,
  WsClient,
  wsUrl,
} from './helper.js';

// Fault injection: the generator misbehaves, and each time the job ends with a
// clear outcome and the service keeps answering. Hangs, stalls, garbage, the
// output cap and a missing binary are in runner.test.ts; SIGTERM and SIGKILL of
// the server itself in restart.test.ts.

const IDEA = { idea: 'A tool library where neighbours lend each other drills and ladders' };
const CHUNKS = ['# Spec\n\n', '## Overview\n', 'A fake spec.\n'];

async function stillServing(t: Test, app: Awaited<ReturnType<typeof build>>) {
  const res = await submit(app, IDEA);
  t.equal(res.statusCode, 202, 'the service still takes jobs');
}

t.test('a CLI that keeps crashing is retried, then the job fails with the crash and its last words', async (t) => {
  const fake = fakeGemini(t, 'crash');
  const app = await build(t, { config: { ...fake.config, GEMINI_MAX_ATTEMPTS: 2 }, env: fake.env });
  const job = await waitForJob(app, (await submit(app, IDEA)).json().jobId);
  t.match(job, { status: 'failed', attempt: 2, error: { code: 'GENERATOR_CRASHED', message: /Segmentation fault/ } });
  t.equal(fake.calls().length, 2);
  await stillServing(t, app);
});

t.test('a slow drip streams every piece, in order, to a WebSocket subscriber', async (t) => {
  const chunks = Array.from({ length: 15 }, (_, i) => `line ${i} ${'é漢🙂'.repeat(i)}\n`);
  const fake = fakeGemini(t, 'ok', { GEMINI_FAKE_CHUNKS: JSON.stringify(chunks), GEMINI_FAKE_DELAY_MS: '60' });
  const app = await build(t, {
    config: { ...fake.config, GEMINI_INACTIVITY_TIMEOUT_MS: 5000 },
    env: fake.env,
    listen: true,
  });
  const ws = await WsClient.open(wsUrl(app));
  t.after(() => ws.close());
  const { jobId } = (await submit(app, IDEA)).json();
  ws.send({ type: 'subscribe-job', jobId, afterSeq: 0 });
  const end = await ws.waitForEnd(jobId);
  t.equal(end.status, 'completed');
  const events = ws.events(jobId);
  const seqs = events.map((e) => e.seq);
  t.same(
    seqs,
    seqs.map((_, i) => i + 1),
    'seq 1, 2, 3… without gaps or repeats',
  );
  t.equal(events.map((e) => e.delta ?? '').join(''), chunks.join(''), 'the deltas add up to the spec');
});

t.test('a flood on stderr does not stop the spec from arriving', async (t) => {
  const fake = fakeGemini(t, 'stderr-flood');
  const app = await build(t, { config: fake.config, env: fake.env });
  const job = await waitForJob(app, (await submit(app, IDEA)).json().jobId);
  t.equal(job.status, 'completed');
  t.equal(job.text, CHUNKS.join(''));
});

t.test('a CLI without the execute bit fails the job with GENERATOR_NOT_EXECUTABLE', async (t) => {
  const path = join(tempDir(t), 'gemini');
  copyFileSync(fixture('fake-gemini.mjs'), path);
  chmodSync(path, 0o644);
  const fake = fakeGemini(t, 'ok');
  const app = await build(t, { config: { ...fake.config, GEMINI_CLI_PATH: path }, env: fake.env });
  const job = await waitForJob(app, (await submit(app, IDEA)).json().jobId);
  t.match(job, { status: 'failed', attempt: 1, error: { code: 'GENERATOR_NOT_EXECUTABLE' } });
  t.equal(fake.calls().length, 0);
});

t.test('a client that hangs up during ?wait=true stops waiting, not the job', async (t) => {
  const fake = fakeGemini(t, 'ok', {
    GEMINI_FAKE_CHUNKS: JSON.stringify(Array(10).fill('drip\n')),
    GEMINI_FAKE_DELAY_MS: '80',
  });
  const app = await build(t, { config: fake.config, env: fake.env, listen: true });
  const { port } = new URL(baseUrl(app));
  const body = JSON.stringify(IDEA);
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'idempotency-key': 'hang-up-1',
  };
  const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/generate?wait=true', headers });
  req.on('error', () => {});
  req.end(body);

  await waitFor(() => fake.calls()[0], { what: 'the CLI to start' });
  req.destroy();
  // The same key finds the job the vanished client started.
  const replay = await submit(app, IDEA, { 'idempotency-key': 'hang-up-1' });
  t.equal(replay.headers['idempotent-replayed'], 'true');
  const job = await waitForJob(app, replay.json().jobId);
  t.equal(job.status, 'completed');
  t.equal(job.text, 'drip\n'.repeat(10));
  t.equal(fake.calls().length, 1, 'the job ran once');
  await stillServing(t, app);
});
