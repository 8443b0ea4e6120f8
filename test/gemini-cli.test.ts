/**
 * The service with the REAL @google/gemini-cli (the project's pinned dependency)
 * against a local mock of the Gemini HTTP API: offline, with its own HOME, TMPDIR
 * and working folder, and the service's own timeouts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { makeGeminiHome, startMockGemini } from './fixtures/mock-gemini-api.js';
import { baseUrl, build, waitFor, waitForJob, WsClient } from './helper.js';

const IDEA = `A "chores" app for flatmates; echo $HOME && rm -rf ~ | \`whoami\` — 家務分工 🧹 naïve café\n`;
const CHUNKS = [
  '# Chores app\n\n',
  '## Overview\nFlatmates share chores fairly.\n\n',
  '## Users and scenarios\n- Given a rota…\n\n',
  '## Functional requirements\n- FR-001 …\n',
  '## Open questions\n- [NEEDS CLARIFICATION: payments?]\n',
];

async function setup(t: Parameters<typeof build>[0], options: Parameters<typeof startMockGemini>[0] = {}) {
  const mock = await startMockGemini({ chunks: CHUNKS, chunkDelayMs: 30, ...options });
  const home = await makeGeminiHome();
  t.after(async () => {
    await mock.close();
    await home.cleanup();
  });
  const env = home.env(mock.url);
  const app = await build(t, {
    listen: true,
    // No GENERATOR: auto must pick gemini because GEMINI_API_KEY is in the environment.
    config: {
      GENERATOR: 'auto',
      GEMINI_MODEL: 'gemini-2.5-flash',
      GEMINI_TIMEOUT_MS: 60_000,
      GEMINI_INACTIVITY_TIMEOUT_MS: 30_000,
      GEMINI_MAX_ATTEMPTS: 2,
    },
    env,
  });
  return { mock, home, app, env };
}

async function post(app: Awaited<ReturnType<typeof build>>, idea = IDEA) {
  const res = await fetch(`${baseUrl(app)}/api/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ idea }),
  });
  return (await res.json()) as { jobId: string; id: number; websocketUrl: string };
}

/** Processes whose environment points at this mock: the CLI and anything it started. */
function cliProcesses(mockUrl: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`GOOGLE_GEMINI_BASE_URL=${mockUrl}`))
        pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

t.test(
  'the real Gemini CLI streams a spec: every status in order, seq without gaps, deltas add up to the stored spec',
  async (t) => {
    const { mock, app } = await setup(t);
    t.equal(app.generator.name, 'gemini', 'GENERATOR=auto chose gemini because credentials are configured');
    const accepted = await post(app);
    const ws = await WsClient.open(accepted.websocketUrl);
    t.teardown(() => ws.close());
    ws.send({ type: 'subscribe-job', jobId: accepted.jobId, afterSeq: 0 });
    const last = await ws.waitForEnd(accepted.jobId);
    t.equal(last.status, 'completed', last.message);

    const events = ws.events(accepted.jobId);
    t.same(
      events.map((e) => e.seq),
      events.map((_, i) => i + 1),
      'seq 1, 2, 3… without gaps',
    );
    t.same([...new Set(events.map((e) => e.status))], ['queued', 'started', 'processing', 'completed']);
    const deltas = events.filter((e) => e.delta).map((e) => e.delta);
    t.same(deltas, CHUNKS, 'each chunk the API streamed arrived as its own delta, in order');

    const spec = (await app.inject({ url: `/api/spec/${accepted.id}` })).json();
    const status = (await app.inject({ url: `/api/job/${accepted.jobId}/status` })).json();
    t.equal(spec.generatedSpec, CHUNKS.join(''));
    t.equal(status.text, spec.generatedSpec, 'polling and GET /api/spec agree');
    t.equal(spec.userInput, IDEA, 'the idea is stored unchanged');
    t.equal(spec.generator, 'gemini');
    t.equal(spec.model, 'gemini-2.5-flash');

    t.equal(mock.prompts.length, 1);
    t.ok(mock.prompts[0].includes(IDEA), 'the idea reached the model byte for byte');
    t.ok(
      mock.requests.some((r) => r.path.startsWith('/v1beta/models/gemini-2.5-flash:streamGenerateContent')),
      '-m picked the model',
    );
    const row = await app.ideas.findById(accepted.id);
    t.match(row!.metadata, { stats: { total_tokens: Number } }, 'token counts are kept in the metadata');
  },
);

t.test("an API 400 fails the job once, with the API's message", async (t) => {
  const { mock, app } = await setup(t, {
    status: 400,
    errorMessage: 'API key not valid. Please pass a valid API key.',
  });
  const accepted = await post(app);
  const status = await waitForJob(app, accepted.jobId, 60_000);
  t.equal(status.status, 'failed');
  t.match(status.error, { code: 'GEMINI_API_REJECTED', retryable: false });
  t.match(status.error.message, /API key not valid/);
  t.equal(mock.prompts.length, 1, 'not retried, and the CLI itself made one call');
});

t.test('an API 503 is retried by the service; the next attempt succeeds', async (t) => {
  const { mock, app } = await setup(t, { status: 503, failCount: 1 });
  const accepted = await post(app);
  const status = await waitForJob(app, accepted.jobId, 60_000);
  t.equal(status.status, 'completed', status.message);
  t.equal(status.attempt, 2);
  t.equal(status.text, CHUNKS.join(''), "the text is the second attempt's alone");
  t.equal(mock.prompts.length, 2, 'the CLI made one call per attempt (its own retries are off)');
});

t.test('cancelling kills the real CLI', async (t) => {
  const { mock, app } = await setup(t, { hang: true });
  const accepted = await post(app);
  await waitFor(() => mock.prompts.length > 0, { timeoutMs: 30_000, what: 'the CLI to call the API' });
  t.ok(cliProcesses(mock.url).length > 0, 'the CLI is running');
  const res = await app.inject({ method: 'POST', url: `/api/job/${accepted.jobId}/cancel` });
  t.equal(res.json().status, 'cancelled');
  await waitFor(() => cliProcesses(mock.url).length === 0, { timeoutMs: 10_000, what: 'the CLI to exit' });
  t.pass('no CLI process is left');
});
