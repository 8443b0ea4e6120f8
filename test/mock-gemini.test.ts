/**
 * Runs the REAL `@google/gemini-cli` (node_modules/.bin/gemini) headless against
 * the local mock of the Gemini HTTP API (test/fixtures/mock-gemini-api.ts).
 * Each run gets its own HOME, TMPDIR and empty cwd, the prompt goes on stdin
 * (never argv), and every run has a hard timeout that SIGKILLs its process group.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import {
  GEMINI_CLI_BIN as GEMINI_BIN,
  makeGeminiHome,
  startMockGemini,
  type GeminiHome,
  type MockGemini,
} from './fixtures/mock-gemini-api.js';

const BASE_ARGS = ['--output-format', 'stream-json', '--skip-trust'];
const RUN_TIMEOUT_MS = 30_000;

/** Shell metacharacters, quotes, emoji, Chinese, tabs, newlines, trailing newline. */
const IDEA =
  `Idea: a "todo" app; echo $HOME && rm -rf ~ | cat \`whoami\` $(id) 'single' <tag> & * ? \\ %s %n\n` +
  `🚀✨👩🏽‍💻 中文：构建一个待办事项应用，支持“离线”同步。 — naïve café\tTAB\n`;

type Event = Record<string, unknown> & { type: string };

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  events: Event[];
  ms: number;
  timedOut: boolean;
}

function runGemini(
  home: GeminiHome,
  mock: MockGemini,
  opts: {
    args?: string[];
    stdin: string;
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    /** Called once the child is spawned; may signal it. */
    onSpawn?: (pid: number) => void;
  },
): Promise<RunResult> {
  const started = Date.now();
  const child = spawn(GEMINI_BIN, [...BASE_ARGS, ...(opts.args ?? [])], {
    cwd: home.cwd,
    env: home.env(mock.url, opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // own process group, so a timeout can kill the CLI and anything it spawned
  });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => {});
  // The CLI gives up on stdin if nothing arrives ~500 ms after it starts reading: write at once.
  child.stdin.end(opts.stdin, 'utf8');
  const killGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup('SIGKILL');
  }, opts.timeoutMs ?? RUN_TIMEOUT_MS);
  opts.onSpawn?.(child.pid!);
  return new Promise((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      killGroup('SIGKILL'); // nothing may outlive the run
      const events = stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Event);
      resolve({ code, signal, stdout, stderr, events, ms: Date.now() - started, timedOut });
    });
  });
}

async function setup(t: Test, settings?: Record<string, unknown>) {
  const mock = await startMockGemini();
  const home = await makeGeminiHome(settings ? { settings } : {});
  t.teardown(async () => {
    await mock.close();
    await home.cleanup();
  });
  return { mock, home };
}

const byType = (events: Event[], type: string) => events.filter((e) => e.type === type);

t.test('success: stdin prompt, auto model routing, streamed deltas, result stats', async (t) => {
  const { mock, home } = await setup(t);
  const chunks = ['## Overview\n', 'Une idée — ', '待办事项 🚀', '\n- done'];
  mock.setOptions({ chunks });

  // Default launcher path (parent process relaunches itself as a child), as in production.
  const r = await runGemini(home, mock, { stdin: IDEA, env: { GEMINI_CLI_NO_RELAUNCH: undefined } });
  t.comment(`success run: ${r.ms} ms`);
  t.equal(r.timedOut, false, 'did not time out');
  t.equal(r.code, 0, 'exit code 0');
  t.equal(r.stderr, '', 'nothing on stderr with the hermetic settings');

  const [init, user, ...rest] = r.events;
  t.match(init, { type: 'init', session_id: String, model: 'auto', timestamp: String });
  t.same(
    user,
    { type: 'message', timestamp: user.timestamp, role: 'user', content: IDEA },
    'user message echoes stdin verbatim',
  );
  const deltas = rest.filter((e) => e.type === 'message');
  t.same(
    deltas.map((e) => [e.role, e.content, e.delta]),
    chunks.map((c) => ['assistant', c, true]),
    'one assistant delta per SSE chunk, in order',
  );
  const result = r.events[r.events.length - 1];
  t.match(result, {
    type: 'result',
    status: 'success',
    stats: {
      total_tokens: Number,
      input_tokens: Number,
      output_tokens: Number,
      cached: Number,
      duration_ms: Number,
      tool_calls: 0,
      models: Object,
    },
  });
  t.equal(byType(r.events, 'error').length, 0, 'no error events');

  // What reached the API
  t.equal(mock.prompts.length, 1, 'one main-model request');
  t.equal(mock.prompts[0], IDEA, 'prompt reached the API byte for byte');
  t.equal(Buffer.compare(Buffer.from(mock.prompts[0], 'utf8'), Buffer.from(IDEA, 'utf8')), 0);
  const paths = mock.requests.map((q) => `${q.method} ${q.path}`);
  t.ok(
    paths.some((p) => /^POST \/v1beta\/models\/[^/:]+:generateContent$/.test(p)),
    'auto routing asks a classifier via generateContent',
  );
  t.ok(
    paths.some((p) => /^POST \/v1beta\/models\/[^/:]+:streamGenerateContent\?alt=sse$/.test(p)),
    'main turn is streamGenerateContent?alt=sse',
  );
  const stream = mock.requests.find((q) => q.action === 'streamGenerateContent')!;
  t.equal(stream.headers['x-goog-api-key'], 'mock-api-key', 'API key sent as x-goog-api-key');
  t.comment(`requests: ${paths.join(' | ')}`);
});

t.test('-m MODEL shows in the request path; tool_use / tool_result events', async (t) => {
  const { mock, home } = await setup(t);
  mock.setOptions({
    chunks: ['after the tool'],
    functionCall: { name: 'list_directory', args: { dir_path: '.' } },
  });
  const r = await runGemini(home, mock, { args: ['-m', 'gemini-2.5-flash'], stdin: 'list the folder' });
  t.equal(r.code, 0);
  t.match(r.events[0], { type: 'init', model: 'gemini-2.5-flash' });
  t.same(
    mock.requests.map((q) => q.path),
    [
      '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
      '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    ],
    'no classifier call with an explicit model; second call carries the functionResponse',
  );
  t.same(mock.prompts, ['list the folder'], 'tool-response turns are not counted as prompts');
  const [use] = byType(r.events, 'tool_use');
  const [res] = byType(r.events, 'tool_result');
  t.match(use, { tool_name: 'list_directory', tool_id: String, parameters: { dir_path: '.' } });
  t.match(res, { tool_id: use.tool_id, status: 'success', output: String });
  t.match(r.events[r.events.length - 1], { type: 'result', status: 'success', stats: { tool_calls: 1 } });
  t.comment(`tool_use: ${JSON.stringify(use)}`);
  t.comment(`tool_result: ${JSON.stringify(res)}`);
});

t.test('HTTP 400: exit 144, result event with status error, no retry', async (t) => {
  const { mock, home } = await setup(t);
  mock.setOptions({ status: 400, errorMessage: 'API key not valid. Please pass a valid API key.' });
  const r = await runGemini(home, mock, { args: ['-m', 'gemini-2.5-flash'], stdin: 'hello' });
  t.comment(`400: exit ${r.code} in ${r.ms} ms`);
  t.comment(`stdout: ${r.stdout.trim().split('\n').pop()}`);
  t.comment(`stderr: ${r.stderr.split('\n')[0]}`);
  t.equal(r.code, 144, '400 % 256');
  t.same(
    r.events.map((e) => e.type),
    ['init', 'message', 'result'],
  );
  t.match(r.events[2], {
    type: 'result',
    status: 'error',
    error: { type: String, message: /400.*API key not valid/ },
    stats: { total_tokens: 0 },
  });
  t.equal(mock.requests.length, 1, '400 is not retried');
  t.match(r.stderr, /Full report available at: .*gemini-client-error-/);
  const reports = (await readdir(home.tmp)).filter((f) => f.startsWith('gemini-client-error-'));
  t.equal(reports.length, 1, 'the CLI drops an error report (with the request) into TMPDIR');
});

for (const status of [500, 429]) {
  t.test(`HTTP ${status}: bounded by general.maxAttempts=1 (exit ${status % 256})`, async (t) => {
    const { mock, home } = await setup(t);
    mock.setOptions({ status });
    const r = await runGemini(home, mock, { args: ['-m', 'gemini-2.5-flash'], stdin: 'hello' });
    t.comment(`${status}: exit ${r.code} in ${r.ms} ms, ${mock.requests.length} request(s)`);
    t.comment(`stdout: ${r.stdout.trim().split('\n').pop()}`);
    t.comment(`stderr: ${r.stderr.split('\n')[0]}`);
    t.equal(r.code, status % 256);
    t.same(
      r.events.map((e) => e.type),
      ['init', 'message', 'result'],
    );
    t.match(r.events[2], { type: 'result', status: 'error', error: { message: new RegExp(String(status)) } });
    t.equal(mock.requests.length, 1, 'exactly one attempt (CLI default is 10 with 5s..30s backoff)');
    t.match(
      r.stderr,
      /Max attempts reached/,
      'the CLI itself stopped after one attempt (no backoff wait, not our timeout)',
    );
  });
}

t.test('empty model answer: exit 0 but an error event and result.status "error"', async (t) => {
  const { mock, home } = await setup(t);
  mock.setOptions({ chunks: [] });
  const r = await runGemini(home, mock, { args: ['-m', 'gemini-2.5-flash'], stdin: 'hello' });
  t.equal(r.code, 0, 'exit code alone does not tell success');
  t.same(
    r.events.map((e) => e.type),
    ['init', 'message', 'error', 'result'],
  );
  t.match(r.events[2], { type: 'error', severity: 'error', message: /empty response/ });
  t.match(r.events[3], { type: 'result', status: 'error' });
  t.notOk('error' in r.events[3], 'this result carries no error object');
  t.comment(`error event: ${JSON.stringify(r.events[2])}`);
});

t.test('SIGTERM mid-request: CLI exits 0 without a result event', async (t) => {
  const { mock, home } = await setup(t);
  mock.setOptions({ hang: true });
  const r = await runGemini(home, mock, {
    args: ['-m', 'gemini-2.5-flash'],
    stdin: 'hello',
    onSpawn: (pid) => {
      const poll = setInterval(() => {
        if (mock.requests.some((q) => q.action === 'streamGenerateContent')) {
          clearInterval(poll);
          process.kill(-pid, 'SIGTERM');
        }
      }, 20);
      poll.unref();
    },
  });
  t.comment(`SIGTERM: exit ${r.code} signal ${r.signal} in ${r.ms} ms`);
  t.equal(r.timedOut, false);
  t.equal(r.code, 0, 'graceful shutdown exits 0 — a runner must not read that as success');
  t.same(
    r.events.map((e) => e.type),
    ['init', 'message'],
    'no result event',
  );
});
