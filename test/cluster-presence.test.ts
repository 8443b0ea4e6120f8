import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { RedisServer, redisMissing } from './fixtures/redis-server.js';
import { build, fakeGemini, submit, tempDir, waitFor, waitForJob } from './helper.js';

interface Instance {
  id: string;
  self: boolean;
  role: string;
  hostname: string;
  pid: number;
  startedAt: string;
  lastSeen: string;
  runningJobs: string[];
}

const instances = async (app: FastifyInstance): Promise<Instance[]> =>
  (await app.inject({ url: '/api/health' })).json().instances;
const ids = (list: Instance[]) => list.map((i) => i.id).sort();
const runningOn = async (app: FastifyInstance, id: string) =>
  (await instances(app)).find((i) => i.id === id)?.runningJobs;

t.test(
  'instances sharing Redis list each other in /api/health with what each runs, through a Redis restart; one that closes drops off',
  { skip: redisMissing },
  async (t) => {
    const redis = await RedisServer.start(t);
    const gate = join(tempDir(t), 'gate');
    const fake = fakeGemini(t, 'ok', { GEMINI_FAKE_GATE: gate });
    const config = { ...fake.config, REDIS_URL: redis.url };
    // Instances of one cluster share Redis and one database.
    const dbFile = join(tempDir(t), 'shared.db');
    const a = await build(t, { dbFile, config, env: fake.env });
    const b = await build(t, { dbFile, config, env: fake.env });
    const both = [a.cluster.instanceId, b.cluster.instanceId].sort();
    t.not(a.cluster.instanceId, b.cluster.instanceId);

    for (const app of [a, b])
      await waitFor(async () => ids(await instances(app)).join() === both.join(), {
        what: 'each instance to see both',
      });
    const seenByB = await instances(b);
    t.match(seenByB[0], { id: b.cluster.instanceId, self: true }, 'the answering instance comes first');
    t.match(
      seenByB.find((i) => i.id === a.cluster.instanceId),
      {
        self: false,
        role: 'all',
        hostname: hostname(),
        pid: process.pid,
        startedAt: String,
        lastSeen: String,
        runningJobs: [],
      },
    );

    // A job held running on A (the fake CLI waits for the gate) shows under A, on B's page too.
    const jobId = (await submit(a, { idea: 'A seed swap calendar for allotment gardeners' })).json().jobId;
    await waitFor(() => fake.calls().length === 1, { what: 'the CLI to start on A' });
    await waitFor(async () => (await runningOn(b, a.cluster.instanceId))?.includes(jobId), {
      what: "B to see A's running job",
    });
    t.same(await runningOn(b, a.cluster.instanceId), [jobId], 'listed under A');
    t.same(await runningOn(b, b.cluster.instanceId), [], 'and not under B');
    t.same(await runningOn(a, a.cluster.instanceId), [jobId], 'A says so of itself');

    writeFileSync(gate, '');
    t.equal((await waitForJob(a, jobId)).status, 'completed');
    await waitFor(async () => (await runningOn(b, a.cluster.instanceId))?.length === 0, {
      what: 'the finished job to leave the list',
    });

    // Redis away: nobody can tell who else is alive, so each lists only itself; back: both again, no restart.
    await redis.stop();
    await waitFor(async () => ids(await instances(b)).join() === b.cluster.instanceId, {
      what: 'B to stop vouching for A',
    });
    t.same(ids(await instances(a)), [a.cluster.instanceId], 'and A for B');
    await redis.start();
    for (const app of [a, b])
      await waitFor(async () => ids(await instances(app)).join() === both.join(), {
        what: 'the heartbeats to resume',
      });
    t.same(ids(await instances(b)), both, 'each sees both again once Redis is back');

    await a.close();
    await waitFor(async () => ids(await instances(b)).join() === b.cluster.instanceId, {
      what: 'the closed instance to drop off',
    });
    t.same(ids(await instances(b)), [b.cluster.instanceId], 'only B is left');
  },
);

t.test('without REDIS_URL there is no instances section', async (t) => {
  const app = await build(t);
  const health = (await app.inject({ url: '/api/health' })).json();
  t.equal(health.status, 'OK');
  t.notOk('instances' in health);
});
