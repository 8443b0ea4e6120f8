// Cluster mode with real processes while the shared Redis misbehaves without going away: it refuses
// writes (out of memory under `noeviction`, the policy BullMQ needs), answers slowly, or is configured
// wrong. Followers on other instances must still see every event and the end, and health must say so.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { sleep } from '../src/time.js';
import { Redis } from 'ioredis';
import {
  Cluster,
  follow,
  oneTo,
  seqs,
  storedWhenEnded,
  submit,
  textOf,
  type ClusterOptions,
  type Follower,
} from './fixtures/cluster.js';
import type { ServerProcess } from './fixtures/server-process.js';
import { redisMissing } from './fixtures/redis-server.js';
import { SseReader } from './sse-client.js';
import { waitFor } from './helper.js';

t.setTimeout(300_000);

/** A client of the test's own redis-server, for the operator's commands (CONFIG SET, CLIENT PAUSE…). */
function admin(t: { after(fn: () => unknown): void }, url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null });
  t.after(() => client.disconnect());
  return client;
}

/** Waits until a follower has had three deltas: the job is streaming. */
const streaming = (follower: Follower) =>
  waitFor(() => follower.events().filter((e) => e.delta).length >= 3, {
    timeoutMs: 30_000,
    what: 'three deltas on B',
  });

/** Two instances; a job submitted on A, followed from its start on B, and streaming there. */
async function jobStreamingOnB(
  t: Parameters<typeof Cluster.start>[0],
  idea: string,
  options: Omit<ClusterOptions, 'instances'>,
) {
  const cluster = await Cluster.start(t, { instances: 2, ...options });
  const [a, b] = cluster.instances.map((i) => i.server) as [ServerProcess, ServerProcess];
  const { jobId, id } = await submit(a, idea);
  const follower = await follow(t, b, jobId, 0);
  await streaming(follower);
  return { cluster, a, b, jobId, id, follower };
}

t.test(
  'Redis out of memory for a moment mid-stream: the events refused meanwhile land once it takes writes again, and a follower on another instance gets every one and the end',
  { skip: redisMissing },
  async (t) => {
    // A lock far longer than the blip: the job stays where it runs, only its appends are refused.
    const { cluster, b, jobId, id, follower } = await jobStreamingOnB(t, 'A rota for the allotment water butts', {
      chunks: 24,
      delayMs: 100,
      env: { JOB_LOCK_DURATION_MS: '10000', JOB_STALLED_INTERVAL_MS: '5000' },
    });
    const redis = admin(t, cluster.redis.url);

    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    await redis.config('SET', 'maxmemory', '1');
    const before = follower.events().length;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await redis.config('SET', 'maxmemory', '0');

    const end = await follower.end(30_000);
    t.equal(end.status, 'completed', 'the follower on B sees the job end');
    const events = follower.events();
    t.ok(events.length > before + 1, 'events written while Redis refused them arrived');
    t.same(seqs(events), oneTo(events.length), 'every event once, in order, no gap');
    const stored = await storedWhenEnded(b!, id);
    t.equal(stored.status, 'completed');
    t.equal(textOf(events), stored.generatedSpec, 'the streamed text is the stored spec');
    const late = await follow(t, b!, jobId, 0);
    t.equal(late.subscribed.status, 'completed', 'a later subscriber finds it completed');
  },
);

t.test(
  'Redis answers PING but refuses every write (out of memory): health says so instead of OK, new ideas get 503, and both recover once memory is freed',
  { skip: redisMissing },
  async (t) => {
    const cluster = await Cluster.start(t, { instances: 1, chunks: 2, delayMs: 10 });
    const a = cluster.get('A').server;
    const redis = admin(t, cluster.redis.url);
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    await redis.config('SET', 'maxmemory', '1');

    const health = await waitFor(
      async () => {
        const res = await a.request('GET', '/api/health');
        return res.body.services.redis.status !== 'OK' ? res.body : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'health to notice that Redis refuses writes' },
    );
    t.not(health.status, 'OK', 'health is no longer OK');
    t.match(health.reasons, [/^redis refuses writes: OOM/], 'and says why');
    const refused = await a.request('POST', '/api/generate', { idea: 'A swap shop for school uniforms' });
    t.equal(refused.status, 503, 'a new idea is refused while Redis takes no writes');

    await redis.config('SET', 'maxmemory', '0');
    await waitFor(async () => (await a.request('GET', '/api/health')).body.services.redis.status === 'OK', {
      timeoutMs: 10_000,
      intervalMs: 200,
      what: 'health to recover',
    });
    const { id } = await submit(a, 'A swap shop for school uniforms');
    t.equal((await storedWhenEnded(a, id)).status, 'completed', 'new ideas run again');
  },
);

t.test(
  'a WebSocket subscribes to a running job while Redis does not answer: answered from the stored row, then followed live once Redis answers again, to the end',
  { skip: redisMissing },
  async (t) => {
    const {
      cluster,
      b,
      jobId,
      id,
      follower: first,
    } = await jobStreamingOnB(t, 'A lost-property board for the leisure centre', {
      chunks: 30,
      delayMs: 100,
      env: { JOB_LOCK_DURATION_MS: '10000', JOB_STALLED_INTERVAL_MS: '5000' },
    });
    const redis = admin(t, cluster.redis.url);

    // Every client of Redis waits for 3 s: longer than B waits for the event log before it answers from the row.
    await redis.call('CLIENT', 'PAUSE', '3000', 'ALL');
    const late = await follow(t, b!, jobId);
    t.equal(late.subscribed.status, 'processing', 'the subscribe is answered while Redis is paused');

    const end = await late.end(30_000);
    t.equal(end.status, 'completed', 'the socket that subscribed meanwhile sees the job end');
    const after = late.events();
    t.ok(after.length > 1, 'with the events written after it subscribed');
    t.same(
      seqs(after),
      oneTo(end.seq).filter((seq) => seq > late.subscribed.seq),
      'each event after its snapshot once, in order, no gap',
    );
    const stored = await storedWhenEnded(b!, id);
    t.equal(
      late.subscribed.text + textOf(after),
      stored.generatedSpec,
      "its snapshot's text and the deltas make the spec",
    );
    t.equal((await first.end()).status, 'completed');
  },
);

t.test(
  'Redis loses its data without going away (FLUSHALL) while jobs run and wait: every accepted job still completes, and a follower sees its end',
  { skip: redisMissing },
  async (t) => {
    // One slot per instance: of three jobs two run and one waits in the queue when the data goes.
    const cluster = await Cluster.start(t, {
      instances: 2,
      chunks: 20,
      delayMs: 100,
      env: { JOB_CONCURRENCY: '1' },
    });
    const [a, b] = cluster.instances.map((i) => i.server);
    const redis = admin(t, cluster.redis.url);
    const ideas = Array.from({ length: 3 }, (_, i) => `A tool library for the scout hut, shelf ${i + 1}`);
    const accepted = [];
    for (const idea of ideas) accepted.push(await submit(a!, idea));
    await Promise.all(ideas.slice(0, 2).map((idea) => cluster.runOf(idea)));
    const follower = await follow(t, b!, accepted[0]!.jobId, 0);
    await streaming(follower);

    await redis.flushall();

    for (const [i, job] of accepted.entries()) {
      const stored = await storedWhenEnded(b!, job.id, 30_000);
      t.equal(stored.status, 'completed', `accepted job ${i + 1} completed`);
    }
    t.equal((await follower.end(10_000)).status, 'completed', 'the follower on B sees the first job end');
    t.ok(cluster.runsOf(ideas[2]!).length >= 1, 'the job that was waiting ran');
  },
);

t.test(
  "a running job's state key vanishes from Redis (evicted, deleted by hand): its next events still land, and a follower on another instance gets them and the end",
  { skip: redisMissing },
  async (t) => {
    const { cluster, b, jobId, id, follower } = await jobStreamingOnB(t, 'A key cupboard for the community hall', {
      chunks: 20,
      delayMs: 100,
    });
    const redis = admin(t, cluster.redis.url);

    t.equal(await redis.del(`idea2spec:job:{${jobId}}:state`), 1, "the job's state key is gone");

    const end = await follower.end(30_000);
    t.equal(end.status, 'completed', 'the follower on B sees the job end');
    const events = follower.events();
    t.same(seqs(events), oneTo(events.length), 'every event once, in order, no gap');
    const stored = await storedWhenEnded(b!, id);
    t.equal(textOf(events), stored.generatedSpec, 'the streamed text is the stored spec');
  },
);

t.test(
  'an SSE stream opened on a running job while Redis does not answer: a stream, not a 500, which follows the job to its end once Redis answers again',
  { skip: redisMissing },
  async (t) => {
    const { cluster, b, jobId, id } = await jobStreamingOnB(t, 'A bike-repair rota for the cycle café', {
      chunks: 30,
      delayMs: 100,
      env: { JOB_LOCK_DURATION_MS: '10000', JOB_STALLED_INTERVAL_MS: '5000' },
    });
    const redis = admin(t, cluster.redis.url);

    await redis.call('CLIENT', 'PAUSE', '3000', 'ALL');
    const stream = await SseReader.open(`${b!.url}/api/v1/job/${jobId}/events?afterSeq=0`);
    t.after(() => stream.drop());
    t.equal(stream.statusCode, 200, 'the stream is opened while Redis is paused');
    await stream.untilEnded(30_000);
    const events = stream.jobEvents();
    t.equal(events.at(-1)?.status, 'completed', 'it ends with the job');
    t.same(
      events.map((e) => e.seq),
      oneTo(events.length),
      'every event from the first once, in order, no gap',
    );
    const stored = await storedWhenEnded(b!, id);
    t.equal(textOf(events as never), stored.generatedSpec, 'the streamed text is the stored spec');
  },
);

t.test(
  'Redis restarted from an older copy of its data: a job that completed meanwhile is not "processing" again for its followers (WebSocket and SSE get its end)',
  { skip: redisMissing },
  async (t) => {
    const { cluster, a, b, jobId, id, follower } = await jobStreamingOnB(
      t,
      'A tool-sharpening day for the allotment society',
      { chunks: 12, delayMs: 100, redis: { persist: true } },
    );
    // The copy an operator restores later: taken while the job runs (append-only file, synced on every write).
    const copy = mkdtempSync(join(tmpdir(), 'idea2spec-redis-copy-'));
    t.after(() => rmSync(copy, { recursive: true, force: true }));
    cpSync(cluster.redis.dataDir!, copy, { recursive: true });
    t.equal((await follower.end()).status, 'completed');
    t.equal((await storedWhenEnded(b!, id)).status, 'completed');
    const endedAt = Date.now();

    await cluster.redis.kill();
    rmSync(cluster.redis.dataDir!, { recursive: true, force: true });
    cpSync(copy, cluster.redis.dataDir!, { recursive: true });
    await cluster.redis.start();
    // Both instances take new ideas again: their connections to Redis are back.
    for (const server of [a!, b!])
      await waitFor(
        async () =>
          (await server.request('POST', '/api/generate', { idea: 'A plant swap at the library' })).status === 202,
        { timeoutMs: 30_000, intervalMs: 200, what: 'new ideas to be taken again' },
      );
    const redis = admin(t, cluster.redis.url);
    t.equal(
      await redis.hget(`idea2spec:job:{${jobId}}:state`, 'status'),
      'processing',
      'the restored log says processing',
    );

    // Until 5 s after the job's end a log that lacks it may still be catching up (the SSE test above); later it is stale.
    await sleep(Math.max(0, endedAt + 5000 - Date.now()));
    const late = await follow(t, b!, jobId, 0);
    t.equal(late.subscribed.status, 'completed', 'a WebSocket subscribe finds it completed');
    const stream = await SseReader.open(`${a!.url}/api/v1/job/${jobId}/events?afterSeq=0`);
    t.after(() => stream.drop());
    await stream.untilEnded(10_000);
    t.equal(stream.jobEvents().at(-1)?.status, 'completed', 'an SSE stream ends with its end');
  },
);
