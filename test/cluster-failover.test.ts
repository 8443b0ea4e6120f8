// Cluster mode with real processes: an instance that crashes, stalls or shuts down while it runs
// jobs. Its jobs are taken over by another instance (BullMQ's lock and stalled-job check, here
// JOB_LOCK_DURATION_MS 2000 and JOB_STALLED_INTERVAL_MS 1000), and each job's event log stays
// one numbered sequence written by one owner at a time.
import t from 'tap';
import { isTerminal } from '../src/jobs/transitions.js';
import { Cluster, follow, oneTo, seqs, storedWhenEnded, submit, textOf } from './fixtures/cluster.js';
import { redisMissing } from './fixtures/redis-server.js';
import { isAlive, waitFor } from './helper.js';

t.setTimeout(600_000);

t.test(
  'kill -9 of the instance running a job: another finishes it, seq goes on without reuse or gap, the attempt is counted',
  { skip: redisMissing },
  async (t) => {
    const cluster = await Cluster.start(t, { instances: 2, chunks: 20, delayMs: 150 });
    const idea = 'A lending shelf for board games in the office kitchen';
    const { jobId, id } = await submit(cluster.instances[0]!.server, idea);
    const first = await cluster.runOf(idea);
    const [survivor] = cluster.others(first.instance);
    const watcher = await follow(t, survivor!.server, jobId, 0);
    await waitFor(() => watcher.events().filter((e) => e.delta).length >= 3, {
      timeoutMs: 30_000,
      what: 'three deltas',
    });

    first.instance.server.kill('SIGKILL');
    await first.instance.server.exited;
    const second = await cluster.runOf(idea, 2);
    t.equal(second.instance, survivor, `the job runs again on ${survivor!.name}`);

    const end = await watcher.end();
    t.equal(end.status, 'completed');
    const events = watcher.events();
    t.same(seqs(events), oneTo(events.length), 'seq 1, 2, 3… n across both instances: none reused, none skipped');
    t.equal(events.filter((e) => isTerminal(e.status)).length, 1, 'one terminal event, the last');
    t.same(
      [...new Set(events.map((e) => e.attempt))].filter((a) => a > 0),
      [1, 2],
      'the attempt cut short by the crash, then the one that finished',
    );
    const stored = await storedWhenEnded(survivor!.server, id);
    t.equal(stored.status, 'completed');
    t.equal(stored.attempts, 2, 'the crashed attempt counts');
    t.equal(stored.generatedSpec, cluster.specOf(survivor!), `the stored spec is the one ${survivor!.name} wrote`);
    t.equal(textOf(events), stored.generatedSpec, "the last attempt's deltas build it");

    const replayed = await follow(t, survivor!.server, jobId, 0);
    await replayed.end();
    t.same(replayed.events(), events, 'a late subscriber with afterSeq 0 is replayed the same events');
  },
);

t.test(
  'an instance stopped past its lock (SIGSTOP) loses the job: once resumed its writes are refused and its generator is killed',
  { skip: redisMissing },
  async (t) => {
    // Long enough that the stalled instance's generator is still writing when the instance resumes.
    const cluster = await Cluster.start(t, { instances: 2, chunks: 40, delayMs: 250 });
    const idea = 'A calendar for sharing the community minibus';
    const { jobId, id } = await submit(cluster.instances[0]!.server, idea);
    const first = await cluster.runOf(idea);
    const stalled = first.instance;
    const [taker] = cluster.others(stalled);
    const watcher = await follow(t, taker!.server, jobId, 0);
    await waitFor(() => watcher.events().filter((e) => e.delta).length >= 2, {
      timeoutMs: 30_000,
      what: 'two deltas',
    });

    stalled.server.kill('SIGSTOP');
    const second = await cluster.runOf(idea, 2);
    t.equal(second.instance, taker, `${taker!.name} takes the job over once ${stalled.name}'s lock has lapsed`);
    t.ok(isAlive(first.pid), `${stalled.name}'s generator is still writing (into a pipe nobody reads)`);
    stalled.server.kill('SIGCONT');

    await waitFor(() => !isAlive(first.pid), { timeoutMs: 30_000, what: "the stalled instance's generator to go" });
    t.notOk(cluster.finishedByItself(first), `${stalled.name} killed its generator instead of letting it finish`);

    const end = await watcher.end();
    t.equal(end.status, 'completed');
    const events = watcher.events();
    t.same(seqs(events), oneTo(events.length), 'one sequence, no seq twice: the late writes were refused');
    t.equal(events.filter((e) => isTerminal(e.status)).length, 1, 'completed once');
    const takeover = events.find((e) => e.attempt === 2)!;
    t.ok(takeover, 'the second attempt is in the log');
    t.same(
      events.filter((e) => e.seq > takeover.seq && e.delta?.includes(`written on ${stalled.name}`)),
      [],
      `no text from ${stalled.name} after ${taker!.name} took over`,
    );
    t.ok(
      events.every((e) => e.seq < takeover.seq || e.attempt === 2),
      'every event after the takeover belongs to the new attempt',
    );

    const stored = await storedWhenEnded(taker!.server, id);
    t.equal(stored.status, 'completed');
    t.equal(stored.generatedSpec, cluster.specOf(taker!), `the stored spec is the one ${taker!.name} wrote`);
    t.equal(stored.attempts, 2);
    // The resumed instance serves the same job as the others do.
    const seenFromStalled = await follow(t, stalled.server, jobId, 0);
    await seenFromStalled.end();
    t.same(seenFromStalled.events(), events, `${stalled.name} replays the same log`);
    const fromStalled = await stalled.server.request('GET', `/api/spec/${id}`);
    t.equal(fromStalled.body.generatedSpec, stored.generatedSpec, `and reads the same stored spec`);
  },
);

t.test(
  'SIGTERM of an instance with running jobs: they are handed back and finish elsewhere, no attempt counted as failed',
  { skip: redisMissing },
  async (t) => {
    // A short grace: the jobs cannot finish in it, so they are handed back.
    const cluster = await Cluster.start(t, { instances: 2, chunks: 20, delayMs: 200 });
    const [a] = cluster.instances;
    const ideas = Array.from({ length: 4 }, (_, i) => `A seed swap register for the allotment society, list ${i + 1}`);
    const jobs = [];
    for (const idea of ideas) jobs.push(await submit(a!.server, idea));
    const firstRuns = await Promise.all(ideas.map((idea) => cluster.runOf(idea)));
    const leaving = firstRuns[0]!.instance;
    const [staying] = cluster.others(leaving);
    const handedBack = ideas.filter((_, i) => firstRuns[i]!.instance === leaving);
    const watchers = await Promise.all(jobs.map((job) => follow(t, staying!.server, job.jobId, 0)));

    leaving.server.kill('SIGTERM');
    const exit = await leaving.server.exited;
    t.same(exit, { code: 0, signal: null }, `${leaving.name} shut down cleanly`);

    for (const [i, job] of jobs.entries()) {
      const end = await watchers[i]!.end();
      t.equal(end.status, 'completed', `${ideas[i]} completed`);
      const events = watchers[i]!.events();
      t.same(seqs(events), oneTo(events.length), 'its log is one sequence');
      t.same(
        events.filter((e) => e.error),
        [],
        'no event reports a failed attempt',
      );
      const stored = await storedWhenEnded(staying!.server, job.id);
      t.equal(stored.status, 'completed');
      t.equal(stored.attempts, 1, 'the attempt cut short by the shutdown is not counted');
      t.equal(stored.generatedSpec, cluster.specOf(staying!), `finished on ${staying!.name}`);
    }
    for (const idea of handedBack) {
      const runs = cluster.runsOf(idea);
      t.same(
        runs.map((r) => r.instance.name),
        [leaving.name, staying!.name],
        `"${idea}" started on ${leaving.name}, ran again on ${staying!.name}`,
      );
      t.notOk(isAlive(runs[0]!.pid), `${leaving.name} left no generator behind`);
    }
  },
);
