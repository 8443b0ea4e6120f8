// Cluster mode with real processes: several instances of the service share a redis-server and one
// database, and behave as one service. Following a job and cancelling it from any instance.
import t from 'tap';
import { isTerminal } from '../src/jobs/transitions.js';
import type { JobSnapshot } from '../src/schemas/jobs.js';
import { Cluster, follow, oneTo, seqs, storedWhenEnded, submit, textOf } from './fixtures/cluster.js';
import { redisMissing } from './fixtures/redis-server.js';
import { sqldMissing } from './fixtures/sqld-server.js';
import { isAlive, waitFor } from './helper.js';

// Each test starts a redis-server and two or three instances of the service.
t.setTimeout(600_000);

for (const database of ['file', 'sqld'] as const) {
  t.test(
    `a job posted on A is followed on B by WebSocket and polled on C: every event once, in order (database: ${database})`,
    { skip: redisMissing || (database === 'sqld' && sqldMissing) },
    async (t) => {
      const cluster = await Cluster.start(t, { instances: 3, database, chunks: 16, delayMs: 150 });
      const [a, b, c] = cluster.instances.map((i) => i.server);
      const idea = `A sign-up sheet for the street party on a ${database} database`;

      const { jobId, id } = await submit(a!, idea);
      const fromStart = await follow(t, b!, jobId, 0);

      // C is polled meanwhile: every snapshot is a consistent (seq, text) pair, however far the job has come.
      const polls: JobSnapshot[] = [];
      const polling = (async () => {
        for (;;) {
          const res = await c!.request('GET', `/api/job/${jobId}/status`);
          if (res.status !== 200) throw new Error(`status poll on C answered ${res.status}`);
          polls.push(res.body);
          if (isTerminal(res.body.status)) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      })();

      // A second follower on B joins mid-stream with afterSeq: it gets exactly the events after it.
      await waitFor(() => fromStart.events().filter((e) => e.delta).length >= 3, {
        timeoutMs: 30_000,
        what: 'three deltas on B',
      });
      const joinedAt = fromStart.events().at(-1)!.seq - 1;
      const midway = await follow(t, b!, jobId, joinedAt);

      const end = await fromStart.end();
      await midway.end();
      await polling;
      t.equal(end.status, 'completed');

      const events = fromStart.events();
      t.same(seqs(events), oneTo(events.length), 'B got seq 1, 2, 3… n: each event once, in order, no gap');
      t.equal(events.filter((e) => isTerminal(e.status)).length, 1, 'one terminal event, the last');
      t.ok(
        events.filter((e) => e.delta).length >= 16,
        'the deltas the generator wrote on whichever instance ran it arrived live on B',
      );
      t.same(
        midway.events(),
        events.filter((e) => e.seq > joinedAt),
        'the follower that joined with afterSeq got the same events after it, and only those',
      );
      t.ok(midway.subscribed.seq >= joinedAt, 'its snapshot was at least as far as afterSeq');

      const stored = await storedWhenEnded(c!, id);
      t.equal(stored.status, 'completed');
      const [run] = cluster.runsOf(idea);
      t.equal(
        stored.generatedSpec,
        cluster.specOf(run!.instance),
        'the stored spec is what the running instance wrote',
      );
      t.equal(textOf(events), stored.generatedSpec, "the WebSocket's deltas build the stored spec");
      t.equal(
        midway.subscribed.text + textOf(midway.events().filter((e) => e.seq > midway.subscribed.seq)),
        stored.generatedSpec,
        "so do the snapshot's text and the deltas after its seq",
      );

      t.ok(
        polls.some(
          (p) => p.status === 'processing' && p.text.length > 0 && p.text.length < stored.generatedSpec.length,
        ),
        'polling on C saw the text grow while the job ran',
      );
      const inconsistent = polls.filter((poll) => poll.text !== textOf(events.filter((e) => e.seq <= poll.seq)));
      t.same(
        inconsistent.map(({ seq, status, message, text }) => ({ seq, status, message, text })),
        [],
        `every poll on C (${run!.instance.name} ran the job) has the text the events up to its seq build`,
      );
      t.same(
        polls.map((p) => p.seq),
        [...polls.map((p) => p.seq)].sort((x, y) => x - y),
        "the polls' seq never goes back",
      );
      t.equal(polls.at(-1)!.text, stored.generatedSpec, 'the last poll has the whole spec');
    },
  );
}

t.test(
  'a cancel or a DELETE sent to one instance kills the generator running on another, and a waiting job never runs',
  { skip: redisMissing },
  async (t) => {
    const cluster = await Cluster.start(t, { instances: 2, chunks: 40, delayMs: 200, env: { JOB_CONCURRENCY: '1' } });
    const [a] = cluster.instances.map((i) => i.server);

    await t.test('cancel', async (t) => {
      const idea = 'A rota for watering the allotments in August';
      const { jobId, id } = await submit(a!, idea);
      const run = await cluster.runOf(idea);
      const [elsewhere] = cluster.others(run.instance);
      const res = await elsewhere!.server.request('POST', `/api/job/${jobId}/cancel`);
      t.equal(res.status, 202, `the cancel is accepted on ${elsewhere!.name}`);
      t.equal(res.body.status, 'cancelled');
      await waitFor(() => !isAlive(run.pid), { timeoutMs: 15_000, what: 'the generator process to be gone' });
      t.notOk(isAlive(run.pid), `the generator on ${run.instance.name} is gone`);
      t.notOk(cluster.finishedByItself(run), 'it was killed, not left to finish');
      const stored = await storedWhenEnded(run.instance.server, id);
      t.equal(stored.status, 'cancelled', 'the instance that ran it stored the cancel');
      const again = await run.instance.server.request('POST', `/api/job/${jobId}/cancel`);
      t.equal(again.status, 409, 'a second cancel finds the job ended');
    });

    await t.test('DELETE /api/history/:id', async (t) => {
      const idea = 'A noticeboard for borrowing ladders between neighbours';
      const { id } = await submit(a!, idea);
      const run = await cluster.runOf(idea);
      const [elsewhere] = cluster.others(run.instance);
      const res = await elsewhere!.server.request('DELETE', `/api/history/${id}`);
      t.equal(res.status, 200, `the delete is answered on ${elsewhere!.name}`);
      t.match(res.body, { id, deleted: true, cancelled: true });
      await waitFor(() => !isAlive(run.pid), { timeoutMs: 15_000, what: 'the generator process to be gone' });
      t.notOk(isAlive(run.pid), `the generator on ${run.instance.name} is gone`);
      t.notOk(cluster.finishedByItself(run), 'it was killed, not left to finish');
      for (const { name, server } of cluster.instances) {
        t.equal((await server.request('GET', `/api/spec/${id}`)).status, 404, `the idea is gone on ${name}`);
      }
    });

    await t.test('a waiting job', async (t) => {
      // One slot per instance: two running jobs fill them, a third waits in the shared queue.
      const busy = ['A repair café booking list, first', 'A repair café booking list, second'];
      const running = [];
      for (const idea of busy) running.push(await submit(a!, idea));
      await Promise.all(busy.map((idea) => cluster.runOf(idea)));
      const waitingIdea = 'A repair café booking list that waits its turn';
      const waiting = await submit(a!, waitingIdea);
      const snapshot = await a!.request('GET', `/api/job/${waiting.jobId}/status`);
      t.equal(snapshot.body.status, 'queued', 'it waits');

      const [, b] = cluster.instances;
      const res = await b!.server.request('POST', `/api/job/${waiting.jobId}/cancel`);
      t.equal(res.status, 202);
      t.equal(res.body.status, 'cancelled');

      // Once the slots are free again, the next job runs; the cancelled one never does.
      for (const job of running) await b!.server.request('POST', `/api/job/${job.jobId}/cancel`);
      const laterIdea = 'A repair café booking list, submitted last';
      const later = await submit(a!, laterIdea);
      t.equal((await storedWhenEnded(a!, later.id)).status, 'completed', 'a later job runs to the end');
      t.same(cluster.runsOf(waitingIdea), [], 'the cancelled waiting job never ran');
      t.equal((await storedWhenEnded(b!.server, waiting.id)).status, 'cancelled');
    });
  },
);
