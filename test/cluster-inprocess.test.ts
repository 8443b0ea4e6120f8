import t from 'tap';
import { RedisServer, redisMissing } from './fixtures/redis-server.js';
import { build, fakeGemini, isAlive, submit, tempDir, waitFor, waitForJob, WsClient, wsUrl } from './helper.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * Two instances in one process, sharing Redis and one database file: the seams in
 * cluster mode without child processes (test/cluster.test.ts runs real ones).
 */
async function pair(t: Tap, mode: string, extraEnv: NodeJS.ProcessEnv = {}, apiOnlyA = true) {
  const redis = await RedisServer.start(t);
  const dbFile = join(tempDir(t), 'shared.db');
  const fake = fakeGemini(t, mode, extraEnv);
  const common = { ...fake.config, REDIS_URL: redis.url, JOB_LOCK_DURATION_MS: 2000, JOB_STALLED_INTERVAL_MS: 1000 };
  // A only takes requests; B runs every job.
  const a = await build(t, { dbFile, env: fake.env, config: { ...common, ROLE: apiOnlyA ? 'api' : 'all' } });
  const b = await build(t, { dbFile, env: fake.env, config: { ...common, ROLE: 'all' }, listen: true });
  return { a, b, fake, redis };
}
type Tap = Parameters<typeof build>[0];

const IDEA = { idea: 'A shared allotment calendar for a street of neighbours' };

t.test(
  'a job accepted on one instance runs on another and streams to a subscriber there',
  { skip: redisMissing },
  async (t) => {
    const chunks = Array.from({ length: 12 }, (_, i) => `chunk ${i};\n`);
    const { a, b } = await pair(t, 'ok', { GEMINI_FAKE_CHUNKS: JSON.stringify(chunks), GEMINI_FAKE_DELAY_MS: '60' });
    const posted = await submit(a, IDEA);
    t.equal(posted.statusCode, 202);
    const { jobId } = posted.json();
    const ws = await WsClient.open(wsUrl(b));
    t.teardown(() => ws.close());
    ws.send({ type: 'subscribe-job', jobId, afterSeq: 0 });
    await ws.next((m) => m.type === 'job-update' && m.jobId === jobId && m.delta !== undefined);
    const polled = (await a.inject({ url: `/api/job/${jobId}/status` })).json();
    t.ok(['processing', 'completed'].includes(polled.status), 'polling the other instance sees it running');
    const end = await ws.waitForEnd(jobId);
    t.equal(end.status, 'completed');
    const seqs = ws.events(jobId).map((e) => e.seq);
    t.same(
      seqs,
      Array.from({ length: seqs.length }, (_, i) => i + 1),
      'every event once, in order, from 1',
    );
    const streamed = ws
      .events(jobId)
      .map((e) => e.delta ?? '')
      .join('');
    t.equal(streamed, chunks.join(''), 'the deltas make the whole text');
    const stored = await waitForJob(a, jobId);
    t.equal(stored.text, chunks.join(''), 'the row holds the spec');
  },
);

t.test('cancel on the instance that does not run the job stops its generator', { skip: redisMissing }, async (t) => {
  const { a, b, fake } = await pair(t, 'hang');
  const { jobId } = (await submit(a, IDEA)).json();
  const call = await waitFor(() => fake.calls()[0], { what: 'the generator to start on B' });
  t.ok(isAlive(call.pid));
  const cancelled = await a.inject({ method: 'POST', url: `/api/job/${jobId}/cancel` });
  t.equal(cancelled.statusCode, 202, cancelled.body);
  t.equal(cancelled.json().status, 'cancelled');
  await waitFor(() => !isAlive(call.pid), { what: 'the generator process to be gone' });
  t.equal((await b.inject({ url: `/api/job/${jobId}/status` })).json().status, 'cancelled');
});

t.test(
  '?wait=true on an API-only instance answers with the spec written elsewhere',
  { skip: redisMissing },
  async (t) => {
    const { a } = await pair(t, 'ok');
    const res = await a.inject({ method: 'POST', url: '/api/generate?wait=true', payload: IDEA });
    t.equal(res.statusCode, 200, res.body);
    t.equal(res.json().status, 'completed');
    t.match(res.json().generatedSpec, /A fake spec/);
  },
);

t.test('a job that waits in the queue is cancelled from any instance', { skip: redisMissing }, async (t) => {
  const redis = await RedisServer.start(t);
  const dbFile = join(tempDir(t), 'shared.db');
  const a = await build(t, { dbFile, config: { REDIS_URL: redis.url, ROLE: 'api' } });
  const { jobId } = (await submit(a, IDEA)).json();
  const res = await a.inject({ method: 'POST', url: `/api/job/${jobId}/cancel` });
  t.equal(res.statusCode, 202, res.body);
  t.equal(res.json().status, 'cancelled');
  const b = await build(t, { dbFile, config: { REDIS_URL: redis.url } });
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal((await b.inject({ url: `/api/job/${jobId}/status` })).json().status, 'cancelled', 'no worker ran it');
});

t.test(
  'with Redis gone a new idea gets 503 with Retry-After, and history is still served',
  { skip: redisMissing },
  async (t) => {
    const redis = await RedisServer.start(t);
    const a = await build(t, { config: { REDIS_URL: redis.url, JOB_ENQUEUE_TIMEOUT_MS: 500 } });
    t.equal((await submit(a, IDEA)).statusCode, 202);
    await redis.stop();
    const refused = await submit(a, IDEA);
    t.equal(refused.statusCode, 503, refused.body);
    t.equal(refused.json().code, 'QUEUE_UNAVAILABLE');
    t.ok(Number(refused.headers['retry-after']) > 0);
    const history = await a.inject({ url: '/api/history' });
    t.equal(history.statusCode, 200);
    t.equal(history.json().data.length, 1, 'only the acknowledged idea is stored');
  },
);

t.test(
  'an instance that shuts down hands its running job to another, with no attempt spent',
  { skip: redisMissing },
  async (t) => {
    const redis = await RedisServer.start(t);
    const dbFile = join(tempDir(t), 'shared.db');
    const chunks = Array.from({ length: 40 }, (_, i) => `part ${i};\n`);
    const fake = fakeGemini(t, 'ok', { GEMINI_FAKE_CHUNKS: JSON.stringify(chunks), GEMINI_FAKE_DELAY_MS: '50' });
    const config = { ...fake.config, REDIS_URL: redis.url, SHUTDOWN_GRACE_MS: 100 };
    const a = await build(t, { dbFile, env: fake.env, config });
    const { jobId } = (await submit(a, IDEA)).json();
    await waitFor(() => a.jobs.runningJobIds().includes(jobId), { what: 'the job to run on A' });
    const b = await build(t, { dbFile, env: fake.env, config, listen: true });
    const ws = await WsClient.open(wsUrl(b));
    t.teardown(() => ws.close());
    ws.send({ type: 'subscribe-job', jobId, afterSeq: 0 });
    await ws.next((m) => m.type === 'job-update' && m.delta !== undefined);
    await a.close();
    const end = await ws.waitForEnd(jobId);
    t.equal(end.status, 'completed', 'finished on B');
    const seqs = ws.events(jobId).map((e) => e.seq);
    t.same(
      seqs,
      Array.from({ length: seqs.length }, (_, i) => i + 1),
      'one numbering across both instances',
    );
    const row = (await b.inject({ url: `/api/history?limit=1` })).json().data[0];
    const stored = (await b.inject({ url: `/api/spec/${row.id}` })).json();
    t.equal(stored.attempts, 1, 'the interrupted attempt was not counted');
    t.equal(stored.generatedSpec, chunks.join(''), 'the spec is the whole answer of the run on B');
    t.equal(fake.calls().length, 2, 'the generator ran once on each instance');
  },
);

t.test(
  'Redis loses its data while this instance runs a job: the job is queued again once it is lost here, even though the recovery that noticed the loss passed it by',
  { skip: redisMissing },
  async (t) => {
    const redis = await RedisServer.start(t);
    const gate = join(tempDir(t), 'gate');
    const fake = fakeGemini(t, 'ok', { GEMINI_FAKE_GATE: gate });
    const app = await build(t, {
      env: fake.env,
      config: { ...fake.config, REDIS_URL: redis.url, JOB_LOCK_DURATION_MS: 2000, JOB_STALLED_INTERVAL_MS: 1000 },
    });
    const { jobId } = (await submit(app, IDEA)).json();
    await waitFor(() => fake.calls().length > 0, { what: 'the CLI to start' });

    // Another instance noticed first: it put the data marker back at once (so this one never notices) and
    // queued again the jobs it did not run. This instance's own recovery, had it noticed, passes its running job by.
    const admin = new Redis(redis.url);
    t.after(() => admin.disconnect());
    await admin.multi().flushall().set('idea2spec:data-marker', 'another instance').exec();
    await app.jobs.recover();
    await waitFor(() => app.jobs.runningJobIds().length === 0, { what: 'the job to be lost here' });
    writeFileSync(gate, '');

    const end = await waitForJob(app, jobId, 30_000);
    t.equal(end.status, 'completed', 'the job completed');
    t.equal(fake.calls().length, 2, 'run again once, after it was lost');
  },
);
