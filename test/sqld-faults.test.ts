import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import { boundedFetch } from '../src/db/remote-fetch.js';
import { isTerminal } from '../src/jobs/transitions.js';
import { assertDown, assertHealthy, assertUnavailable, storedWhenDone } from './fixtures/database-faults.js';
import { SqldServer, sqldMissing } from './fixtures/sqld-server.js';
import { build, fakeGemini, submit, tempDir, waitFor, waitForJob } from './helper.js';

// The libSQL server (sqld) the service stores its ideas on fails under it, as an operator's would:
// killed outright, frozen, then started again on the same port over the same data. Every request
// that needs it answers a clear 503 DATABASE_UNAVAILABLE in bounded time (never a 500, never a hang),
// health says DOWN and readiness false, a job that ended meanwhile is stored once the server is back
// without running again, and the service is whole afterwards.

const IDEA = { idea: 'A tool library for a housing cooperative' };
const SPEC = ['# Spec\n\n', '## Overview\n', 'Members borrow drills and ladders.\n', '## Rules\n', 'Two weeks each.\n'];
/** What health says of a server that refuses connections, or one that takes them and never answers. */
const UNREACHABLE = /the database server cannot be reached: /;
const SILENT = /no answer within|did not answer within/;

/** sqld with the service on it, one job already stored. */
async function setup(t: Test) {
  const sqld = await SqldServer.start(t);
  const app = await build(t, { config: { TURSO_DATABASE_URL: sqld.url, HEALTH_SAMPLE_MS: 100 } });
  const first = (await submit(app, IDEA)).json();
  await waitForJob(app, first.jobId);
  await assertHealthy(t, app);
  return { sqld, app, first };
}

async function assertRecovered(t: Test, app: FastifyInstance) {
  const res = await submit(app, { idea: `${IDEA.idea}, after the fault` });
  t.equal(res.statusCode, 202, 'accepting ideas again');
  t.equal((await waitForJob(app, res.json().jobId, 30_000)).status, 'completed');
  t.equal((await app.inject({ url: '/api/history' })).statusCode, 200, 'history is served again');
}

t.test(
  'sqld killed while a spec streams: the finished job lands once sqld is back on the same data, generated once',
  { skip: sqldMissing },
  async (t) => {
    const sqld = await SqldServer.start(t);
    const gate = join(tempDir(t), 'gate');
    const fake = fakeGemini(t, 'ok', {
      GEMINI_FAKE_GATE: gate,
      GEMINI_FAKE_DELAY_MS: '100',
      GEMINI_FAKE_CHUNKS: JSON.stringify(SPEC),
    });
    const app = await build(t, {
      config: { ...fake.config, TURSO_DATABASE_URL: sqld.url, HEALTH_SAMPLE_MS: 100 },
      env: fake.env,
    });
    const accepted = (await submit(app, IDEA)).json();
    await waitFor(() => fake.calls().length > 0, { what: 'the CLI to start' });
    await waitFor(async () => (await app.ideas.findById(accepted.id))?.status === 'processing', {
      what: 'the row to say processing',
    });
    writeFileSync(gate, '');
    await waitFor(async () => ((await app.jobs.snapshot(accepted.jobId))?.progress?.chunks ?? 0) > 0, {
      what: 'the spec to stream',
    });
    await sqld.kill();
    await waitFor(async () => isTerminal((await app.jobs.snapshot(accepted.jobId))?.status ?? 'queued'), {
      what: 'the job to end in memory',
    });
    t.equal((await app.jobs.snapshot(accepted.jobId))?.status, 'completed', 'the job completed in memory');
    await waitFor(() => app.jobs.rowWriteFailure(), { what: 'a failed row write', timeoutMs: 30_000 });
    await assertDown(t, app, UNREACHABLE);

    await sqld.restart();
    const row = await storedWhenDone(app, accepted.id);
    t.equal(row.generatedSpec, SPEC.join(''), 'the whole spec landed');
    t.equal(fake.calls().length, 1, 'the generator ran once');
    await assertHealthy(t, app);
    t.equal(app.jobs.rowWriteFailure(), undefined, 'no row write is waiting');
  },
);

t.test(
  'sqld down: submissions and history answer 503, health is DOWN and not ready; all recover once it is back',
  { skip: sqldMissing },
  async (t) => {
    const { sqld, app, first } = await setup(t);
    // At once: a request may still go out on a connection the dead server had open.
    await sqld.kill();
    assertUnavailable(t, await submit(app, IDEA), 'submit while sqld is down');
    assertUnavailable(t, await submit(app, IDEA), 'and again: the service did not crash');
    assertUnavailable(t, await app.inject({ url: '/api/history' }), 'history while sqld is down');
    assertUnavailable(t, await app.inject({ url: '/api/history?search=tool' }), 'a history search');
    assertUnavailable(t, await app.inject({ url: '/api/history/stats' }), 'history stats');
    assertUnavailable(t, await app.inject({ url: `/api/spec/${first.id}` }), 'a stored spec');
    await assertDown(t, app, UNREACHABLE);

    await sqld.restart();
    await assertHealthy(t, app);
    await assertRecovered(t, app);
    t.equal((await app.inject({ url: `/api/spec/${first.id}` })).statusCode, 200, 'the earlier spec is still there');
  },
);

t.test(
  'sqld frozen: requests answer 503 while it stays frozen instead of hanging, and all recover once it runs on',
  { skip: sqldMissing },
  async (t) => {
    const { sqld, app } = await setup(t);
    await sqld.pause();
    // Each answer arrives while sqld is still frozen: a request waiting on it would never be answered.
    const key = { 'idempotency-key': 'frozen-1' };
    assertUnavailable(t, await submit(app, IDEA, key), 'submit while sqld is frozen');
    assertUnavailable(t, await app.inject({ url: '/api/history' }), 'history while sqld is frozen');
    await assertDown(t, app, SILENT);

    sqld.resume();
    await assertHealthy(t, app);
    await assertRecovered(t, app);
    const retried = await submit(app, IDEA, key);
    t.equal(retried.statusCode, 202, 'the refused submission, retried with its key, is accepted');
    t.equal((await waitForJob(app, retried.json().jobId, 30_000)).status, 'completed', 'and its job runs');
  },
);

t.test(
  'sqld killed while a submission waits on it: that submission answers 503, not 500',
  { skip: sqldMissing },
  async (t) => {
    const { sqld, app } = await setup(t);
    await sqld.pause();
    const waiting = submit(app, IDEA);
    // Health goes DOWN once the sampler's own probe has waited on the frozen server: the submission's
    // statement, sent before it, sits on a connection sqld took and never answered.
    await assertDown(t, app, SILENT);
    await sqld.kill();
    assertUnavailable(t, await waiting, 'the submission whose connection the dying server dropped');
    await sqld.restart();
    await assertHealthy(t, app);
    await assertRecovered(t, app);
  },
);

/** A TCP relay to sqld that counts the HTTP requests sent through it: how many the service sent its way. */
async function countingRelay(t: Test, port: number) {
  let requests = 0;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
    }
    // A request's head goes out in one write: its request line is not split.
    client.on('data', (chunk: Buffer) => (requests += chunk.toString('latin1').match(/^POST \//gm)?.length ?? 0));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.close();
    for (const socket of open) socket.destroy();
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return requests;
    },
  };
}

t.test(
  'sqld frozen under load: once a request has gone unanswered, the others fail at once instead of queueing on it',
  { skip: sqldMissing },
  async (t) => {
    const sqld = await SqldServer.start(t);
    const relay = await countingRelay(t, sqld.port);
    // No health samples meanwhile: every request to the server is one of the test's.
    const app = await build(t, { config: { TURSO_DATABASE_URL: relay.url, HEALTH_SAMPLE_MS: 600_000 } });
    const first = (await submit(app, IDEA)).json();
    await waitForJob(app, first.jobId);

    await sqld.pause();
    assertUnavailable(t, await app.inject({ url: '/api/history' }), 'history, unanswered');
    const before = relay.requests;
    const answers = await Promise.all(Array.from({ length: 60 }, () => app.inject({ url: '/api/history' })));
    t.same(new Set(answers.map((a) => a.json().code)), new Set(['DATABASE_UNAVAILABLE']), 'every one a 503');
    t.ok(relay.requests - before <= 1, `one probe reached the frozen server (${relay.requests - before} did)`);

    sqld.resume();
    // Until the probe on its way is answered, requests still fail at once.
    await waitFor(async () => (await app.inject({ url: '/api/history' })).statusCode === 200, {
      what: 'the thawed server to answer a probe',
    });
    await assertRecovered(t, app);
  },
);

t.test('a request to a slow libSQL server is bounded, except while migrations run', async (t) => {
  // A migration that rebuilds a large table on the server is one long request: it must not be cut off.
  const server = createHttpServer((_req, res) => setTimeout(() => res.end('{"ok":true}'), 300));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const remoteFetch = boundedFetch(100);
  await t.rejects(remoteFetch(url), { code: 'DATABASE_UNREACHABLE', message: SILENT }, 'a request past the bound');
  const answer = await remoteFetch.patiently(() => remoteFetch(url));
  t.same(await answer.json(), { ok: true }, 'the same request, patiently');
});
