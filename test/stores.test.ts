import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import t from 'tap';
import { RedisJobControl } from '../src/jobs/stores/redis-control.js';
import { RedisEventLog } from '../src/jobs/stores/redis-event-log.js';
import { FencedError } from '../src/jobs/stores/event-log.js';
import { createFailFastRedis, waitUntilReady } from '../src/redis/fail-fast-client.js';
import { RedisServer, redisMissing } from './fixtures/redis-server.js';
import type { JobControl } from '../src/jobs/stores/control.js';
import type { EventLog } from '../src/jobs/stores/event-log.js';
import { MemoryJobControl } from '../src/jobs/stores/memory-control.js';
import { MemoryEventLog } from '../src/jobs/stores/memory-event-log.js';
import { MemoryJobQueue } from '../src/jobs/stores/memory-queue.js';
import type { JobQueue, RunOutcome } from '../src/jobs/stores/queue.js';
import type { JobEvent } from '../src/schemas/jobs.js';
import { isoTime } from '../src/time.js';
import type { JobStatus } from '../src/jobs/transitions.js';
import { waitFor } from './helper.js';

/**
 * The contracts of the shared-state seams. Every implementation runs the same
 * checks: the in-memory ones here, a shared (Redis) one by adding its factory.
 */
const eventLogs: Record<string, () => EventLog | Promise<EventLog>> = { memory: () => new MemoryEventLog() };
const controls: Record<string, () => JobControl | Promise<JobControl>> = { memory: () => new MemoryJobControl() };

/** The cluster implementations, on a private redis-server; each log or control gets a key prefix of its own. */
const redis = redisMissing ? undefined : await RedisServer.start(t);
const silent = pino({ level: 'silent' });
const connections: Redis[] = [];
t.teardown(() => connections.forEach((c) => c.disconnect()));
const connect = (waiting = false) => {
  const url = redis!.url;
  const c = waiting ? new Redis(url, { maxRetriesPerRequest: null }) : createFailFastRedis(url, 'test');
  c.on('error', () => undefined);
  connections.push(c);
  return c;
};
/** A fail-fast client refuses commands until it is connected: the service waits for that at start-up too. */
const connected = async () => {
  const c = connect();
  await waitUntilReady(c, 5000);
  return c;
};
const redisEventLog = async (prefix = randomUUID(), lockKey = (id: string) => `${prefix}:lock:${id}`) =>
  new RedisEventLog({
    commands: await connected(),
    reader: connect(true),
    prefix,
    lockKey,
    retentionMs: 60_000,
    log: silent,
  });
const redisControl = async (prefix = randomUUID(), instanceId = randomUUID()) =>
  new RedisJobControl({ commands: await connected(), subscriber: connect(true), prefix, instanceId, log: silent });
if (redis) {
  eventLogs.redis = () => redisEventLog();
  controls.redis = () => redisControl();
}
const queues: Record<string, (o: { concurrency: number; limit: number }) => JobQueue> = {
  memory: (o) => new MemoryJobQueue(o),
};

const JOB = '6f1d2a3b-0000-4000-8000-000000000001';

function event(seq: number, status: JobStatus, extra: Partial<JobEvent> = {}): JobEvent {
  return {
    type: 'job-update',
    jobId: JOB,
    ideaId: 1,
    seq,
    status,
    timestamp: isoTime(0),
    message: `event ${seq}`,
    attempt: 1,
    progress: { chars: 0, chunks: 0 },
    ...extra,
  };
}

for (const [name, create] of Object.entries(eventLogs)) {
  t.test(`${name} event log: numbered events, text so far, replay, live events until the end`, async (t) => {
    const log = await create();
    t.teardown(() => log.close());
    t.equal(await log.snapshot(JOB), undefined, 'an unknown job has no log');
    t.equal(await log.subscribe(JOB, 0, () => {}), undefined);

    await log.open(JOB, { status: 'queued', seq: 4, text: '' });
    await log.append(event(5, 'processing'));
    await t.rejects(log.append(event(5, 'processing')), 'a repeated seq is refused');
    await t.rejects(log.append(event(7, 'processing')), 'a gap is refused');
    await log.append(event(6, 'processing', { delta: 'Hello' }));
    await log.append(event(7, 'processing', { delta: ', world' }));
    t.same(await log.snapshot(JOB), { status: 'processing', seq: 7, text: 'Hello, world' });
    t.same(
      (await log.after(JOB, 5)).map((e) => e.seq),
      [6, 7],
    );

    const live: JobEvent[] = [];
    const sub = await log.subscribe(JOB, 5, (e) => live.push(e));
    t.same(sub?.snapshot, { status: 'processing', seq: 7, text: 'Hello, world' });
    t.same(
      sub?.replay.map((e) => e.seq),
      [6, 7],
      'the replay covers afterSeq..snapshot.seq',
    );
    await log.append(event(8, 'processing', { attempt: 2 }), { reset: true });
    t.equal((await log.snapshot(JOB))?.text, '', 'a new attempt starts from empty text');
    await log.append(event(9, 'completed'), { replace: '# Spec' });
    // A shared log delivers from its reader, a moment later.
    await waitFor(() => live.length >= 2, { what: 'the live events' });
    t.same(
      live.map((e) => e.seq),
      [8, 9],
      'live events follow the snapshot without a gap, up to the end',
    );
    t.equal((await log.snapshot(JOB))?.text, '# Spec', 'the final text replaces the streamed one');

    const late = await log.subscribe(JOB, 8, () => t.fail('an ended job sends no live events'));
    t.same(
      late?.replay.map((e) => e.seq),
      [9],
    );
    late?.close();
  });

  t.test(`${name} event log: a finished job's log is forgotten after its retention`, async (t) => {
    const log = await create();
    t.teardown(() => log.close());
    await log.open(JOB, { status: 'queued', seq: 0, text: '' });
    await log.append(event(1, 'cancelled'));
    // Long enough that the look right after cannot come too late under load (20 ms did, on CI).
    await log.expire(JOB, 1500);
    t.ok(await log.snapshot(JOB), 'kept for now');
    await waitFor(async () => (await log.snapshot(JOB)) === undefined, { what: 'the log to expire' });
    t.pass('expired');
  });
}

for (const [name, create] of Object.entries(controls)) {
  t.test(`${name} job control: cancel reaches the holder, waiting ends at the release`, async (t) => {
    const control = await create();
    t.teardown(() => control.close());
    t.equal(await control.cancel(JOB, 'why'), 'unknown', 'nobody holds it');
    t.equal(await control.waitForEnd(JOB), true, 'nothing to wait for');

    const reasons: string[] = [];
    const release = await control.hold(JOB, (reason) => (reasons.push(reason), 'cancelled'));
    t.equal(await control.cancel(JOB, 'Cancelled by request'), 'cancelled');
    t.same(reasons, ['Cancelled by request']);

    const gone = new AbortController();
    const abandoned = control.waitForEnd(JOB, gone.signal);
    gone.abort();
    t.equal(await abandoned, false, 'an aborted wait says so');

    let ended = false;
    const waiting = control.waitForEnd(JOB).then((value) => (ended = value));
    await new Promise((resolve) => setImmediate(resolve));
    t.equal(ended, false, 'still held');
    release();
    t.equal(await waiting, true);
    t.equal(await control.cancel(JOB, 'again'), 'unknown', 'released jobs are no longer held');
  });
}

for (const [name, create] of Object.entries(queues)) {
  t.test(`${name} job queue: concurrency, admission, one run per job, hand-back on stop`, async (t) => {
    const queue = create({ concurrency: 1, limit: 1 });
    const started: string[] = [];
    const finish = new Map<string, () => void>();
    queue.process(
      (jobId) =>
        new Promise<RunOutcome>((resolve) => {
          started.push(jobId);
          finish.set(jobId, () => resolve('done'));
        }),
    );
    t.equal(await queue.hasRoom(), true);
    await queue.add('a');
    await queue.add('b');
    await queue.add('b');
    await waitFor(() => started.length === 1, { what: 'the first job to start' });
    t.same(queue.counts(), { waiting: 1, running: 1 }, 'one slot, one waiting: a repeated id is queued once');
    t.equal(await queue.hasRoom(), false, 'JOB_QUEUE_LIMIT waiting jobs with every slot busy: full');

    await queue.stop();
    t.same(queue.counts().waiting, 0, 'waiting jobs are handed back');
    const idle = queue.idle();
    finish.get('a')!();
    await idle;
    await new Promise((resolve) => setTimeout(resolve, 20));
    t.same(started, ['a'], 'a handed-back job does not run here');
  });
}

for (const [name, create] of Object.entries(queues)) {
  t.test(`${name} job queue: a job added with afterMs is in the queue at once but runs no sooner`, async (t) => {
    const queue = create({ concurrency: 1, limit: 10 });
    const started = new Map<string, number>();
    queue.process(async (jobId) => {
      started.set(jobId, performance.now());
      return 'done';
    });
    const added = performance.now();
    await queue.add('later', { afterMs: 300 });
    await queue.add('later');
    await queue.add('now');
    await waitFor(() => started.size === 2, { what: 'both to run' });
    t.ok(started.get('later')! - added >= 290, 'held back for afterMs');
    t.ok(started.get('now')! < started.get('later')!, 'a job added after it without afterMs runs first');
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.equal(started.size, 2, 'adding it again while held back did not queue it twice');
  });
}

t.test(
  'redis event log: another instance follows a job live; a writer without the lock is refused',
  { skip: redisMissing },
  async (t) => {
    const prefix = randomUUID();
    const lockKey = (id: string) => `${prefix}:lock:${id}`;
    const writer = await redisEventLog(prefix, lockKey);
    const reader = await redisEventLog(prefix, lockKey);
    t.teardown(() => Promise.all([writer.close(), reader.close()]));
    const admin = await connected();

    await writer.open(JOB, { status: 'queued', seq: 0, text: '' });
    await writer.append(event(1, 'queued'));
    await admin.set(lockKey(JOB), 'token-a');
    await t.rejects(writer.append(event(2, 'started')), FencedError, 'no token while a worker holds the lock: refused');
    await writer.open(JOB, { status: 'queued', seq: 0, text: '' }, 'token-a');
    t.same(
      await writer.snapshot(JOB),
      { status: 'queued', seq: 1, text: '' },
      'opening again keeps what the log holds',
    );
    await writer.append(event(2, 'started'));

    const live: JobEvent[] = [];
    const sub = await reader.subscribe(JOB, 0, (e) => live.push(e));
    t.same(
      sub?.replay.map((e) => e.seq),
      [1, 2],
      'the replay on another instance',
    );
    const second: JobEvent[] = [];
    const late = await reader.subscribe(JOB, undefined, (e) => second.push(e));
    for (let seq = 3; seq <= 40; seq++) await writer.append(event(seq, 'processing', { delta: `${seq};` }));
    await waitFor(() => live.length === 38 && second.length === 38, { what: 'the live events on the other instance' });
    t.same(
      live.map((e) => e.seq),
      Array.from({ length: 38 }, (_, i) => i + 3),
      'every event once, in order',
    );
    t.same(second, live, 'two subscribers on one instance see the same events');

    await admin.set(lockKey(JOB), 'token-b');
    await t.rejects(writer.append(event(41, 'processing')), FencedError, 'another worker took the lock: refused');
    const other = await redisEventLog(prefix, lockKey);
    t.teardown(() => other.close());
    await other.open(JOB, { status: 'queued', seq: 3, text: '' }, 'token-b');
    await other.append(event(41, 'completed'), { replace: 'final' });
    await waitFor(() => live.length === 39, { what: 'the end' });
    t.equal(live.at(-1)?.status, 'completed', 'the new owner continues the numbering');
    t.same(await reader.snapshot(JOB), { status: 'completed', seq: 41, text: 'final' });
    t.ok((await admin.pttl(`${prefix}:job:{${JOB}}:events`)) > 0, "an ended job's keys expire");
    sub?.close();
    late?.close();
  },
);

t.test(
  'redis job control: a cancel reaches the instance holding the job; a wait ends on another',
  { skip: redisMissing },
  async (t) => {
    const prefix = randomUUID();
    const a = await redisControl(prefix);
    const b = await redisControl(prefix);
    t.teardown(() => Promise.all([a.close(), b.close()]));
    const jobId = randomUUID();
    await b.expect(jobId);
    let ended = false;
    const waiting = b.waitForEnd(jobId).then((value) => (ended = value));
    const reasons: string[] = [];
    const release = await a.hold(jobId, (reason) => (reasons.push(reason), 'cancelled'));
    t.equal(await b.cancel(jobId, 'Cancelled on B'), 'cancelled', 'B asked A');
    t.same(reasons, ['Cancelled on B']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.equal(ended, false, 'still in flight until A releases it');
    release();
    t.equal(await waiting, true, 'the wait on B ends with the release on A');
    t.equal(await b.cancel(jobId, 'again'), 'unknown');
  },
);
