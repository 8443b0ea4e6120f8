import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { isTerminal } from '../src/jobs/transitions.js';
import { ServerProcess } from './fixtures/server-process.js';
import { fixture, isAlive, tempDir, waitFor } from './helper.js';

// The service as a real process, stopped the hard way mid-job: the job must
// survive into the next start. A kill -9 runs no shutdown code at all.

const IDEA = 'A parts tracker for a small bicycle repair shop, with customer notifications';
const CHUNKS = Array.from({ length: 30 }, (_, i) => `Section ${i}\n`);

function env(t: Test, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const dir = tempDir(t);
  return {
    TURSO_DATABASE_URL: `file:${join(dir, 'restart.db')}`,
    GENERATOR: 'gemini',
    GEMINI_CLI_PATH: fixture('fake-gemini.mjs'),
    GEMINI_FAKE_MODE: 'ok',
    GEMINI_FAKE_LOG: join(dir, 'calls.jsonl'),
    GEMINI_FAKE_CHUNKS: JSON.stringify(CHUNKS),
    GEMINI_FAKE_DELAY_MS: '100',
    GEMINI_RETRY_BASE_MS: '10',
    SHUTDOWN_GRACE_MS: '200',
    ...extra,
  };
}

async function start(t: Test, vars: NodeJS.ProcessEnv) {
  const server = await ServerProcess.start(vars);
  t.after(() => server.stop());
  return server;
}

/** Submits the idea and waits until the CLI has streamed part of the spec. */
async function submitAndWaitForText(server: ServerProcess) {
  const accepted = await server.request('POST', '/api/generate', { idea: IDEA });
  if (accepted.status !== 202) throw new Error(`submit: ${accepted.status} ${JSON.stringify(accepted.body)}`);
  await waitFor(
    async () => {
      const { body } = await server.request('GET', `/api/job/${accepted.body.jobId}/status`);
      return body.status === 'processing' && body.progress.chars > 0;
    },
    { what: 'the job to be streaming' },
  );
  return accepted.body as { jobId: string; id: number };
}

async function waitForEnd(server: ServerProcess, jobId: string) {
  return waitFor(
    async () => {
      const { body } = await server.request('GET', `/api/job/${jobId}/status`);
      return isTerminal(body.status) ? body : undefined;
    },
    { timeoutMs: 30_000, what: `job ${jobId} to end` },
  );
}

t.test('kill -9 mid-job, then a restart: the job runs again and completes, the idea intact', async (t) => {
  const vars = env(t);
  const first = await start(t, vars);
  const { jobId, id } = await submitAndWaitForText(first);
  first.kill('SIGKILL');
  t.same(await first.exited, { code: null, signal: 'SIGKILL' });

  const second = await start(t, vars);
  const done = await waitForEnd(second, jobId);
  t.equal(done.status, 'completed');
  t.equal(done.text, CHUNKS.join(''), 'the spec is whole, with nothing from the killed attempt');
  const spec = (await second.request('GET', `/api/spec/${id}`)).body;
  t.equal(spec.userInput, IDEA);
  t.equal(spec.attempts, 2, 'the killed attempt counts');
});

t.test('kill -9 on the last attempt: the restart fails the job with INTERRUPTED', async (t) => {
  const vars = env(t, { GEMINI_MAX_ATTEMPTS: '1' });
  const first = await start(t, vars);
  const { jobId, id } = await submitAndWaitForText(first);
  first.kill('SIGKILL');
  await first.exited;

  const second = await start(t, vars);
  const done = await waitForEnd(second, jobId);
  t.match(done, { status: 'failed', error: { code: 'INTERRUPTED' } });
  t.equal((await second.request('GET', `/api/spec/${id}`)).body.userInput, IDEA, 'the idea is kept');
});

t.test('SIGTERM mid-job: sockets get 1001, the process exits cleanly, the next start finishes the job', async (t) => {
  const vars = env(t);
  const first = await start(t, vars);
  const { jobId } = await submitAndWaitForText(first);
  const socket = new WebSocket(`${first.url.replace('http', 'ws')}/api/ws`);
  await new Promise((resolve) => socket.once('open', resolve));
  const closed = new Promise<number>((resolve) => socket.once('close', resolve));
  const call = JSON.parse(readFileSync(vars.GEMINI_FAKE_LOG!, 'utf8').split('\n')[0]);

  first.kill('SIGTERM');
  t.equal(await closed, 1001, 'WebSocket clients are told the server is going away');
  t.same(await first.exited, { code: 0, signal: null }, 'a clean exit');
  await waitFor(() => !isAlive(call.pid), { what: 'the CLI to be stopped' });

  const second = await start(t, vars);
  const done = await waitForEnd(second, jobId);
  t.equal(done.status, 'completed');
  t.equal(done.text, CHUNKS.join(''));
});

t.test('a second signal during a long shutdown exits at once', async (t) => {
  // A job of a minute and a grace period of two: only the second signal can end this quickly.
  const vars = env(t, { SHUTDOWN_GRACE_MS: '120000', GEMINI_FAKE_DELAY_MS: '2000', LOG_LEVEL: 'info' });
  const first = await start(t, vars);
  await submitAndWaitForText(first);
  first.kill('SIGTERM');
  await waitFor(() => /shutting down/.test(first.output), { what: 'shutdown to begin' });
  first.kill('SIGINT');
  const exit = await first.exited;
  t.equal(exit.code, 1, 'the forced exit is reported as a failure');
});
