import t, { type Test } from 'tap';
import type { Config } from '../src/config.js';
import { build, fakeGemini, isAlive, submit, waitFor, waitForJob } from './helper.js';

const IDEA = 'A shared calendar for a climbing club with gear rotas';

/** The fake CLI in a mode that leaves a grandchild in its own session holding stdout; the orphan is killed when the test ends. */
function orphaning(t: Test, mode: 'orphan' | 'orphan-hang', how: 'setsid' | 'node') {
  const fake = fakeGemini(t, mode, { GEMINI_FAKE_ORPHAN: how });
  const orphans = new Set<number>();
  const orphanStarted = async () => {
    const call = await waitFor(() => fake.calls().find((c) => c.orphan), { what: 'the CLI to start its orphan' });
    orphans.add(call.orphan);
    return call.orphan as number;
  };
  // Registered before build(), so it runs before the temporary directory with the call log is removed.
  t.teardown(() => {
    for (const pid of orphans) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });
  return { ...fake, orphanStarted };
}

/** The service running that CLI, one attempt per job and time limits out of the way, then `config`. */
async function orphanApp(
  t: Test,
  mode: 'orphan' | 'orphan-hang',
  how: 'setsid' | 'node',
  config: Partial<Config> = {},
) {
  const fake = orphaning(t, mode, how);
  const app = await build(t, {
    config: {
      ...fake.config,
      GEMINI_TIMEOUT_MS: 60_000,
      GEMINI_INACTIVITY_TIMEOUT_MS: 60_000,
      GEMINI_MAX_ATTEMPTS: 1,
      ...config,
    },
    env: fake.env,
  });
  return { fake, app };
}

for (const how of ['setsid', 'node'] as const) {
  t.test(`${how}: a CLI that exits while its detached grandchild holds stdout completes its job`, async (t) => {
    const { fake, app } = await orphanApp(t, 'orphan', how);
    const accepted = (await submit(app, { idea: IDEA })).json();
    const status = await waitForJob(app, accepted.jobId);
    t.equal(status.status, 'completed');
    t.equal(status.text, '# Spec\n\n## Overview\nA fake spec.\n', 'everything the CLI wrote before exiting is kept');
    t.ok(isAlive(await fake.orphanStarted()), 'the orphan still runs: the job did not wait for it');
    t.equal(app.jobs.stats.running, 0, 'the slot is free');
  });

  t.test(`${how}: cancel frees the slot at once although the grandchild still holds stdout`, async (t) => {
    const { fake, app } = await orphanApp(t, 'orphan-hang', how, { JOB_CONCURRENCY: 1 });
    const first = (await submit(app, { idea: IDEA })).json();
    await fake.orphanStarted();
    t.equal((await app.inject({ method: 'POST', url: `/api/job/${first.jobId}/cancel` })).statusCode, 202);
    await waitFor(() => app.jobs.stats.running === 0, { what: 'the slot to be freed' });
    t.pass('the slot is free');
    t.equal((await app.inject({ url: `/api/spec/${first.id}` })).json().status, 'cancelled');
  });
}

t.test('the wall-clock timeout ends a job whose CLI is gone but whose orphan holds stdout', async (t) => {
  const fake = orphaning(t, 'orphan-hang', 'setsid');
  const app = await build(t, {
    config: { ...fake.config, GEMINI_TIMEOUT_MS: 3000, GEMINI_MAX_ATTEMPTS: 1 },
    env: fake.env,
  });
  const accepted = (await submit(app, { idea: IDEA })).json();
  await fake.orphanStarted();
  const status = await waitForJob(app, accepted.jobId);
  t.equal(status.status, 'failed');
  t.equal(status.error.code, 'GENERATOR_TIMEOUT');
});

t.test("shutdown does not wait for an orphan that holds a running job's stdout", async (t) => {
  const { fake, app } = await orphanApp(t, 'orphan-hang', 'node');
  const accepted = (await submit(app, { idea: IDEA })).json();
  await fake.orphanStarted();
  const closed = await Promise.race([
    app.close().then(() => 'closed'),
    new Promise((r) => setTimeout(r, 20_000, 'hung')).then((v) => v),
  ]);
  t.equal(closed, 'closed', 'app.close() resolved');
  t.ok(accepted.jobId);
});
