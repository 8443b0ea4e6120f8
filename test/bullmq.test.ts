// BullMQ 6.7.0 on ioredis 6 against a private redis-server: what cluster mode's job queue relies on.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import t from 'tap';
import { RedisServer, redisMissing } from './fixtures/redis-server.js';
import { fixture } from './helper.js';

/** BullMQ's connections: its blocking commands must wait for Redis as long as it takes. */
const connect = (t: { after(fn: () => unknown): void }, url: string) => {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  t.after(() => connection.disconnect());
  return connection;
};

function completions(worker: Worker) {
  const done: Job[] = [];
  const waiters: Array<() => void> = [];
  worker.on('completed', (job) => {
    done.push(job);
    for (const w of waiters.splice(0)) w();
  });
  return {
    done,
    next: () => new Promise<void>((resolve) => waiters.push(resolve)),
  };
}

t.test(
  'a job added twice under its UUID is processed once, with its result stored',
  { skip: redisMissing },
  async (t) => {
    const redis = await RedisServer.start(t);
    const queue = new Queue('spike', { connection: connect(t, redis.url) });
    t.after(() => queue.close());
    const jobId = randomUUID();
    const first = await queue.add('generate', { idea: 'A seed swap for allotments' }, { jobId });
    const again = await queue.add('generate', { idea: 'A seed swap for allotments' }, { jobId });
    t.equal(first.id, jobId, 'the job id is the UUID given');
    t.equal(again.id, jobId);
    t.equal(await queue.count(), 1, 'adding it again added nothing');

    const worker = new Worker('spike', async (job) => ({ chars: String(job.data.idea).length }), {
      connection: connect(t, redis.url),
    });
    t.after(() => worker.close());
    const { done, next } = completions(worker);
    await next();
    t.same(
      done.map((j) => j.id),
      [jobId],
      'processed once',
    );
    const stored = await queue.getJob(jobId);
    t.same(stored?.returnvalue, { chars: 'A seed swap for allotments'.length });
    t.equal(await stored?.getState(), 'completed');
  },
);

t.test(
  'a job whose worker was killed -9 is taken over by another worker once its lock lapses',
  { skip: redisMissing },
  async (t) => {
    const redis = await RedisServer.start(t);
    const lockDuration = 2000;
    const stalledInterval = 1000;
    const queue = new Queue('recovery', { connection: connect(t, redis.url) });
    t.after(() => queue.close());
    const jobId = randomUUID();
    await queue.add('generate', { idea: 'A repair café booking board' }, { jobId, attempts: 3 });

    const doomed = spawn(
      process.execPath,
      [fixture('bullmq-worker.mjs'), redis.url, 'recovery', String(lockDuration), String(stalledInterval)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    t.after(() => doomed.kill('SIGKILL'));
    const [took] = (await once(doomed.stdout, 'data')) as [Buffer];
    t.equal(took.toString().trim(), `took ${jobId}`, 'the other process holds the job');
    doomed.kill('SIGKILL');
    await once(doomed, 'exit');

    const survivor = new Worker('recovery', async (job) => `finished ${job.id}`, {
      connection: connect(t, redis.url),
      lockDuration,
      stalledInterval,
    });
    t.after(() => survivor.close());
    const { done, next } = completions(survivor);
    await next();
    t.same(
      done.map((j) => j.returnvalue),
      [`finished ${jobId}`],
      'completed by the survivor',
    );
    const job = await queue.getJob(jobId);
    t.equal(await job?.getState(), 'completed');
    t.equal(job?.stalledCounter, 1, 'recorded as stalled once');
    // What the job's `attempts` will be built from: a stall does not spend one of BullMQ's attempts, but it was started twice.
    t.same([job?.attemptsStarted, job?.attemptsMade], [2, 1], 'started twice, one attempt spent');
  },
);
