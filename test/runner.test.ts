import t from 'tap';
import { MAX_TOOL_USES_KEPT } from '../src/jobs/job.js';
import { build, fakeGemini, isAlive, submit, waitFor, waitForJob, WsClient, wsUrl } from './helper.js';

const IDEA = 'A shared calendar for a climbing club with gear rotas';

/** Submits an idea and waits for its job to end; returns the final snapshot and the stored idea. */
async function run(app: Awaited<ReturnType<typeof build>>) {
  const accepted = (await submit(app, { idea: IDEA })).json();
  const status = await waitForJob(app, accepted.jobId);
  const spec = (await app.inject({ url: `/api/spec/${accepted.id}` })).json();
  return { accepted, status, spec };
}

t.test('a hanging CLI is killed at the timeout, with its whole process group', async (t) => {
  const fake = fakeGemini(t, 'hang');
  // Timeouts leave room for a slow start on a loaded machine: the fake must start its grandchild before the kill.
  const app = await build(t, {
    config: { ...fake.config, GEMINI_TIMEOUT_MS: 4000, GEMINI_MAX_ATTEMPTS: 1 },
    env: fake.env,
  });
  const { status, spec } = await run(app);
  t.equal(status.status, 'failed');
  t.equal(status.error.code, 'GENERATOR_TIMEOUT');
  t.match(status.error.message, /GEMINI_TIMEOUT_MS/);
  t.equal(spec.attempts, 1);
  const [call, grandchild] = fake.calls();
  t.ok(call.pid && grandchild.grandchild, 'the CLI started a grandchild');
  await waitFor(() => !isAlive(call.pid) && !isAlive(grandchild.grandchild), {
    what: 'the CLI and its grandchild to die',
  });
  t.pass('the CLI and its grandchild are gone');
});

t.test('a CLI that ignores SIGTERM gets SIGKILL after the grace period', async (t) => {
  const fake = fakeGemini(t, 'hang', { GEMINI_FAKE_IGNORE_TERM: '1' });
  const app = await build(t, {
    config: { ...fake.config, GEMINI_TIMEOUT_MS: 3000, GEMINI_KILL_GRACE_MS: 300, GEMINI_MAX_ATTEMPTS: 1 },
    env: fake.env,
  });
  const { status } = await run(app);
  t.equal(status.error.code, 'GENERATOR_TIMEOUT');
  const [call] = fake.calls();
  await waitFor(() => !isAlive(call.pid), { what: 'SIGKILL' });
  t.pass('killed');
});

t.test('a CLI that goes silent hits the inactivity timeout and is retried', async (t) => {
  const fake = fakeGemini(t, 'hang');
  const app = await build(t, {
    config: { ...fake.config, GEMINI_TIMEOUT_MS: 60_000, GEMINI_INACTIVITY_TIMEOUT_MS: 2000, GEMINI_MAX_ATTEMPTS: 2 },
    env: fake.env,
  });
  const { status, spec } = await run(app);
  t.equal(status.status, 'failed');
  t.equal(status.error.code, 'GENERATOR_STALLED');
  t.equal(status.attempt, 2, 'a stall is retryable');
  t.equal(spec.attempts, 2);
});

t.test('a crash is retried; the second attempt starts from empty text and succeeds', async (t) => {
  const fake = fakeGemini(t, 'crash-once');
  const app = await build(t, { config: fake.config, env: fake.env });
  const accepted = (await submit(app, { idea: IDEA })).json();
  await waitForJob(app, accepted.jobId);
  const events = await app.jobEvents.after(accepted.jobId, 0);
  const spec = (await app.inject({ url: `/api/spec/${accepted.id}` })).json();
  t.equal(spec.status, 'completed');
  t.equal(spec.attempts, 2);
  t.notMatch(spec.generatedSpec, /partial text/, 'text from the failed attempt is discarded');
  const retry = events.find((e) => e.error);
  t.match(retry, { status: 'processing', attempt: 1, error: { code: 'GENERATOR_CRASHED', retryable: true } });
  t.match(retry!.error!.message, /Segmentation fault \(simulated\)/, "the CLI's stderr explains the failure");
  const second = events.find((e) => e.attempt === 2);
  t.match(second, { status: 'processing', message: 'Generating (attempt 2 of 3)', progress: { chars: 0, chunks: 0 } });
  const afterRetry = events
    .filter((e) => e.attempt === 2 && e.delta)
    .map((e) => e.delta)
    .join('');
  t.equal(afterRetry, spec.generatedSpec, 'the deltas after the retry add up to the spec');
});

t.test('exit 41 (not authenticated) fails at once with an actionable error', async (t) => {
  const fake = fakeGemini(t, 'exit41');
  const app = await build(t, { config: fake.config, env: fake.env });
  const { status, spec } = await run(app);
  t.equal(status.status, 'failed');
  t.equal(spec.attempts, 1, 'not retried');
  t.equal(fake.calls().length, 1);
  t.match(status.error, { code: 'GEMINI_AUTH', retryable: false });
  t.match(status.error.message, /GEMINI_API_KEY/);
  t.match(spec.error, { code: 'GEMINI_AUTH' });
});

t.test('API errors: 4xx is not retried, 5xx is', async (t) => {
  const bad = fakeGemini(t, 'http400');
  const app400 = await build(t, { config: bad.config, env: bad.env });
  const r400 = await run(app400);
  t.match(r400.status.error, { code: 'GEMINI_API_REJECTED', retryable: false });
  t.match(r400.status.error.message, /400.*API key not valid/);
  t.equal(bad.calls().length, 1);

  const overloaded = fakeGemini(t, 'http503');
  const app503 = await build(t, { config: { ...overloaded.config, GEMINI_MAX_ATTEMPTS: 3 }, env: overloaded.env });
  const r503 = await run(app503);
  t.match(r503.status.error, { code: 'GEMINI_API_ERROR' });
  t.match(r503.status.error.message, /503/);
  t.equal(overloaded.calls().length, 3, 'retried up to GEMINI_MAX_ATTEMPTS');
});

t.test('garbage lines among the events are skipped', async (t) => {
  const fake = fakeGemini(t, 'garbage');
  const app = await build(t, { config: fake.config, env: fake.env });
  const { spec } = await run(app);
  t.equal(spec.status, 'completed');
  t.equal(spec.generatedSpec, '# Spec\n\n## Overview\nA fake spec.\n');
});

/** The deltas a WebSocket subscriber gets for a job, from its start to its end, joined. */
async function streamedText(t: Parameters<typeof build>[0], app: Awaited<ReturnType<typeof build>>, jobId: string) {
  const ws = await WsClient.open(wsUrl(app));
  t.after(() => ws.close());
  ws.send({ type: 'subscribe-job', jobId, afterSeq: 0 });
  await ws.waitForEnd(jobId);
  return ws
    .events(jobId)
    .map((e) => e.delta ?? '')
    .join('');
}

t.test('a NUL or a lone surrogate in the generated text becomes U+FFFD, live and stored alike', async (t) => {
  // SQLite's text ends at a NUL when read back, and UTF-8 cannot hold a lone surrogate: kept as written,
  // the stored spec would stop at the NUL while the live text went on.
  const chunks = [
    '# Spec\n\nbefore\u0000after\n',
    '\ud83d',
    '\ude00 a pair split between two events\n',
    'lone \udc00 end\n',
  ];
  const fake = fakeGemini(t, 'ok', { GEMINI_FAKE_CHUNKS: JSON.stringify(chunks) });
  const app = await build(t, { config: fake.config, env: fake.env, listen: true });
  const { accepted, status, spec } = await run(app);
  const expected = '# Spec\n\nbefore\uFFFDafter\n\u{1F600} a pair split between two events\nlone \uFFFD end\n';
  t.equal(spec.status, 'completed');
  t.equal(spec.generatedSpec, expected, 'the stored spec is whole');
  t.equal(spec.outputLength, expected.length);
  t.equal(status.text, expected, 'the live text is the same');
  const download = await app.inject({ url: `/api/download/${accepted.id}` });
  t.equal(download.body, expected);
  const streamed = await streamedText(t, app, accepted.jobId);
  t.equal(streamed, expected, 'the streamed deltas add up to the stored spec');
});

t.test('terminal control sequences in the generated text are neutralised, live and stored alike', async (t) => {
  // A model's answer is untrusted: printed by `curl` or `cat`, ESC sequences would clear the screen,
  // retitle the window or write the clipboard (OSC 52). Tabs, line feeds and carriage returns stay.
  const chunks = [
    '# Spec\r\n\tintro\u001b[2J\u001b[1;1H',
    'title\u001b]0;pwned\u0007 clip\u001b]52;c;ZWNobyBwd25lZA==\u0007',
    ' csi\u009b31m del\u007f bs\u0008 vt\u000b end\n',
  ];
  const fake = fakeGemini(t, 'ok', { GEMINI_FAKE_CHUNKS: JSON.stringify(chunks) });
  const app = await build(t, { config: fake.config, env: fake.env, listen: true });
  const { accepted, status, spec } = await run(app);
  const expected = chunks.join('').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, '\uFFFD');
  t.notMatch(expected, /[\u001b\u0007\u009b]/, 'the expectation itself holds no ESC, BEL or CSI');
  t.match(expected, /^# Spec\r\n\tintro\uFFFD\[2J/, 'tab, CR and LF kept');
  t.equal(spec.status, 'completed');
  t.equal(spec.generatedSpec, expected, 'the stored spec');
  t.equal(spec.outputLength, chunks.join('').length, 'one character for one');
  t.equal(status.text, expected, 'the live text');
  t.equal((await app.inject({ url: `/api/download/${accepted.id}` })).body, expected, 'the download');
  const streamed = await streamedText(t, app, accepted.jobId);
  t.equal(streamed, expected, 'the streamed deltas');
});

t.test('fields of the wrong JSON type in known events are ignored, not read as text', async (t) => {
  const fake = fakeGemini(t, 'wrong-types');
  const app = await build(t, { config: { ...fake.config, GEMINI_MAX_ATTEMPTS: 1 }, env: fake.env });
  const { status, spec } = await run(app);
  t.match(status.error, { code: 'GENERATOR_CRASHED', retryable: true });
  t.equal(status.error.message, 'The Gemini CLI exited with code 1: the real reason', 'the stderr explains it');
  const row = await app.ideas.findById(spec.id);
  t.match(row!.metadata, { toolUses: [{ name: 'unknown' }], toolUseCount: 1 });
  t.notOk('id' in (row!.metadata as { toolUses: object[] }).toolUses[0], 'a numeric tool id is left out');
});

t.test('output over the cap stops the CLI and fails without retry', async (t) => {
  const fake = fakeGemini(t, 'huge');
  const app = await build(t, { config: { ...fake.config, GENERATOR_OUTPUT_LIMIT: 50_000 }, env: fake.env });
  const { status, spec } = await run(app);
  t.match(status.error, { code: 'OUTPUT_TOO_LARGE', retryable: false });
  t.equal(spec.attempts, 1);
  t.equal(
    spec.generatedSpec.length,
    50_000,
    'the partial text stored is cut at the cap, not at the chunk that crossed it',
  );
  t.equal(spec.outputLength, 50_000);
  t.equal(status.text.length, 50_000, 'so is the live text');
  await waitFor(() => !isAlive(fake.calls()[0].pid), { what: 'the CLI to be killed' });
  t.pass('the CLI was stopped');
});

t.test('a CLI that lingers after its result event is ended, and its answer counts', async (t) => {
  const fake = fakeGemini(t, 'linger');
  const app = await build(t, {
    config: { ...fake.config, GEMINI_INACTIVITY_TIMEOUT_MS: 5000, GEMINI_MAX_ATTEMPTS: 1 },
    env: fake.env,
  });
  const { status, spec } = await run(app);
  t.equal(status.status, 'completed', 'not stalled: the result event was its last word');
  t.equal(spec.generatedSpec, '# Spec\n\n## Overview\nA fake spec.\n');
  t.equal(spec.attempts, 1);
  await waitFor(() => !isAlive(fake.calls()[0].pid), { what: 'the lingering CLI to be ended' });
  t.pass('the CLI was ended');
});

t.test(
  'a CLI slow to exit after a failed result event is waited for: its exit code decides (an API rejection is not retried)',
  async (t) => {
    const fake = fakeGemini(t, 'linger-error');
    const app = await build(t, {
      config: { ...fake.config, GEMINI_KILL_GRACE_MS: 200, GEMINI_MAX_ATTEMPTS: 2 },
      env: fake.env,
    });
    const { status, spec } = await run(app);
    t.match(status.error, { code: 'GEMINI_API_REJECTED', retryable: false });
    t.match(status.error.message, /API key not valid/);
    t.equal(spec.attempts, 1);
    t.equal(fake.calls().length, 1, 'not retried');
  },
);

t.test('a CLI that writes nothing fails as empty output', async (t) => {
  const fake = fakeGemini(t, 'empty');
  const app = await build(t, { config: { ...fake.config, GEMINI_MAX_ATTEMPTS: 1 }, env: fake.env });
  const { status } = await run(app);
  t.match(status.error, { code: 'GENERATOR_EMPTY_OUTPUT' });
});

t.test('a missing binary fails once with a message naming the fix', async (t) => {
  const app = await build(t, { config: { GENERATOR: 'gemini', GEMINI_CLI_PATH: '/nonexistent/gemini' } });
  const { status, spec } = await run(app);
  t.match(status.error, { code: 'GENERATOR_NOT_FOUND', retryable: false });
  t.match(status.error.message, /GEMINI_CLI_PATH/);
  t.equal(spec.attempts, 1);
});

t.test('tool requests are recorded on the job, never auto-approved', async (t) => {
  const fake = fakeGemini(t, 'tool');
  const app = await build(t, { config: fake.config, env: fake.env });
  const { spec } = await run(app);
  t.equal(spec.status, 'completed');
  t.notOk(
    fake.calls()[0].argv.some((a: string) => /yolo|approval/.test(a)),
    'no approval flags',
  );
  const row = await app.ideas.findById(spec.id);
  t.match(row!.metadata, { toolUses: [{ name: 'run_shell_command', id: 't1' }] });
});

t.test('a flood of tool requests and warnings keeps a bounded record, not one entry per event', async (t) => {
  const fake = fakeGemini(t, 'tool-flood', { GEMINI_FAKE_FLOOD: '10000' });
  const app = await build(t, { config: fake.config, env: fake.env });
  const { spec } = await run(app);
  t.equal(spec.status, 'completed');
  t.equal(spec.generatedSpec, '# Spec\n\n## Overview\nA fake spec.\n');
  const row = await app.ideas.findById(spec.id);
  const meta = row!.metadata as { toolUses: Array<{ name: string; id?: string }>; toolUseCount: number };
  t.equal(meta.toolUseCount, 10_000, 'every request is counted');
  t.equal(meta.toolUses.length, MAX_TOOL_USES_KEPT, 'only the first ones are kept');
  t.match(meta.toolUses[0], { name: /^tool_0_n+/, id: 't0' });
  t.ok(
    meta.toolUses.every((u) => u.name.length <= 100),
    'a tool name is kept to 100 characters',
  );
  t.ok(JSON.stringify(meta).length < 20_000, 'the row does not grow with the flood');
});

t.test('cancel mid-run kills the process group; cancel twice is 409; unknown is 404', async (t) => {
  const fake = fakeGemini(t, 'hang');
  const app = await build(t, { config: { ...fake.config, GEMINI_TIMEOUT_MS: 60_000 }, env: fake.env });
  const accepted = (await submit(app, { idea: IDEA })).json();
  const [call, grandchild] = await waitFor(() => (fake.calls().length >= 2 ? fake.calls() : undefined), {
    what: 'the CLI to start',
  });
  const res = await app.inject({ method: 'POST', url: `/api/job/${accepted.jobId}/cancel` });
  t.equal(res.statusCode, 202);
  t.equal(res.json().status, 'cancelled');
  await waitFor(() => !isAlive(call.pid) && !isAlive(grandchild.grandchild), { what: 'the process group to die' });
  t.pass('the CLI and its grandchild are gone');
  const again = await app.inject({ method: 'POST', url: `/api/job/${accepted.jobId}/cancel` });
  t.equal(again.statusCode, 409);
  t.equal(again.json().code, 'JOB_ALREADY_FINISHED');
  const spec = (await app.inject({ url: `/api/spec/${accepted.id}` })).json();
  t.equal(spec.status, 'cancelled');
  t.equal(
    (await app.inject({ method: 'POST', url: '/api/job/00000000-0000-4000-8000-000000000000/cancel' })).statusCode,
    404,
  );
  t.equal((await app.inject({ method: 'POST', url: '/api/job/not-a-uuid/cancel' })).statusCode, 400);
});

t.test('cancelling a queued job means it never starts', async (t) => {
  const fake = fakeGemini(t, 'hang');
  const app = await build(t, {
    config: { ...fake.config, JOB_CONCURRENCY: 1, GEMINI_TIMEOUT_MS: 60_000 },
    env: fake.env,
  });
  const first = (await submit(app, { idea: IDEA })).json();
  const second = (await submit(app, { idea: IDEA })).json();
  await waitFor(() => fake.calls().length > 0, { what: 'the first job to reach the CLI' });
  t.equal((await app.inject({ method: 'POST', url: `/api/job/${second.jobId}/cancel` })).json().status, 'cancelled');
  await app.inject({ method: 'POST', url: `/api/job/${first.jobId}/cancel` });
  await waitFor(() => app.jobs.stats.running === 0, { what: 'the runner to be idle' });
  t.equal(fake.calls().filter((c) => c.stdin).length, 1, 'only the first job reached the CLI');
});

t.test('GENERATOR=auto: offline without credentials, gemini with an API key or a cached sign-in', async (t) => {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tempDir } = await import('./helper.js');
  const emptyHome = tempDir(t);
  const none = await build(t, { config: { GENERATOR: 'auto' }, env: { PATH: process.env.PATH, HOME: emptyHome } });
  t.equal(none.generator.name, 'offline');
  const withKey = await build(t, {
    config: { GENERATOR: 'auto' },
    env: { PATH: process.env.PATH, HOME: emptyHome, GEMINI_API_KEY: 'k' },
  });
  t.equal(withKey.generator.name, 'gemini');
  const signedIn = tempDir(t);
  mkdirSync(join(signedIn, '.gemini'));
  writeFileSync(join(signedIn, '.gemini', 'oauth_creds.json'), '{}');
  const withLogin = await build(t, {
    config: { GENERATOR: 'auto', GEMINI_CLI_HOME: signedIn },
    env: { PATH: process.env.PATH, HOME: emptyHome },
  });
  t.equal(withLogin.generator.name, 'gemini');
});
