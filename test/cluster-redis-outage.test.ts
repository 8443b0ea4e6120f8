// Cluster mode with real processes while the shared Redis goes away and comes back: the instances
// keep answering, refuse new ideas with 503 in the meantime, and lose no job they had accepted.
import t from 'tap';
import { join } from 'node:path';
import { ServerProcess } from './fixtures/server-process.js';
import { freePort } from './free-port.js';
import { sleep } from '../src/time.js';
import { Cluster, storedWhenEnded, submit } from './fixtures/cluster.js';
import { redisMissing } from './fixtures/redis-server.js';
import { waitFor } from './helper.js';

t.setTimeout(600_000);

/** Longer than any request may take while Redis is away (ioredis's defaults made requests wait longer). */
const HANG_MS = 15_000;

/** The request's answer, or 'no answer' when it takes longer than HANG_MS. */
async function answer(server: ServerProcess, method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(HANG_MS),
  }).catch((err: unknown) => {
    if (err instanceof Error && err.name === 'TimeoutError') return 'no answer' as const;
    throw err;
  });
  if (res === 'no answer') return res;
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

// A Redis that keeps its data across a restart (append-only file), and one that comes back empty.
for (const persist of [true, false]) {
  t.test(
    `Redis stopped: the API answers (503 for new ideas, history served), health says so; Redis back${persist ? '' : ' empty'}: the service recovers and every accepted job completes`,
    { skip: redisMissing },
    async (t) => {
      // One slot per instance, so that of three accepted jobs two run and one waits in the queue when Redis goes away.
      const cluster = await Cluster.start(t, {
        instances: 2,
        chunks: 20,
        delayMs: 200,
        redis: { persist },
        env: { JOB_CONCURRENCY: '1', JOB_ENQUEUE_TIMEOUT_MS: '1000' },
      });
      const [a, b] = cluster.instances.map((i) => i.server);
      const ideas = Array.from({ length: 3 }, (_, i) => `A tool library for the tenants' association, shelf ${i + 1}`);
      const accepted = [];
      for (const idea of ideas) accepted.push(await submit(a!, idea));
      await Promise.all(ideas.slice(0, 2).map((idea) => cluster.runOf(idea)));

      await cluster.redis.stop();

      for (const [name, server] of [
        ['A', a!],
        ['B', b!],
      ] as const) {
        const posted = await answer(server, 'POST', '/api/generate', { idea: 'A box scheme for the village bakery' });
        t.not(posted, 'no answer', `a new idea on ${name} is answered`);
        if (posted === 'no answer') continue;
        t.equal(posted.status, 503, `a new idea on ${name} is refused while Redis is away`);
        t.ok(Number(posted.headers.get('retry-after')) > 0, 'with Retry-After');

        const history = await answer(server, 'GET', '/api/history');
        t.not(history, 'no answer', `history on ${name} is answered`);
        if (history === 'no answer') continue;
        t.equal(history.status, 200, `history is served on ${name}`);
        const listed = new Set(history.body.data.map((row: { id: number }) => row.id));
        t.ok(
          accepted.every((job) => listed.has(job.id)),
          'with the accepted ideas',
        );
        const spec = await answer(server, 'GET', `/api/spec/${accepted[0]!.id}`);
        t.equal(spec !== 'no answer' && spec.status, 200, `a stored idea is served on ${name}`);

        const health = await waitFor(
          async () => {
            const res = await answer(server, 'GET', '/api/health');
            return res !== 'no answer' && res.body.services?.redis?.status === 'DOWN' ? res : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 200, what: `health on ${name} to notice` },
        );
        t.not(health.body.status, 'OK', `health on ${name} is no longer OK`);
        t.match(health.body.reasons, [/redis/i], 'and says why');
      }

      await cluster.redis.start();

      for (const [name, server] of [
        ['A', a!],
        ['B', b!],
      ] as const) {
        const health = await waitFor(
          async () => {
            const res = await answer(server, 'GET', '/api/health');
            return res !== 'no answer' && res.body.services?.redis?.status === 'OK' ? res : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 200, what: `health on ${name} to recover` },
        );
        t.equal(health.body.services.redis.status, 'OK', `health on ${name} sees Redis again, without a restart`);
      }

      for (const [i, job] of accepted.entries()) {
        const stored = await storedWhenEnded(b!, job.id, 120_000);
        t.equal(stored.status, 'completed', `accepted job ${i + 1} completed`);
      }
      t.ok(cluster.runsOf(ideas[2]!).length >= 1, 'the job that was waiting ran');

      const after = await submit(b!, 'A seed library for the primary school garden');
      t.equal((await storedWhenEnded(a!, after.id)).status, 'completed', 'new ideas are taken and run again');
      t.ok(a!.running && b!.running, 'neither instance was restarted');
    },
  );
}

t.test(
  'Redis unreachable from the start: the service starts, refuses new ideas with 503, and logs each Redis error once, not at every reconnect',
  async (t) => {
    const port = await freePort(); // nothing listens there
    t.testdir();
    const server = await ServerProcess.start({
      REDIS_URL: `redis://127.0.0.1:${port}`,
      TURSO_DATABASE_URL: `file:${join(t.testdirName, 'ideas.db')}`,
    });
    t.teardown(() => server.stop());
    const posted = await server.request('POST', '/api/generate', { idea: 'A box scheme for the village bakery' });
    t.equal(posted.status, 503);
    // ioredis retries every 200 ms to 2 s: a few seconds are several reconnects for each client.
    await sleep(5000);
    const errors = server.output.split('\n').filter((line) => line.includes('Redis error'));
    for (const what of ['job queue', 'job worker'])
      t.equal(errors.filter((line) => line.includes(`"${what}: Redis error`)).length, 1, `${what}: one line`);
  },
);
