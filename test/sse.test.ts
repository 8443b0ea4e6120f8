import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { baseUrl, build, fakeGemini, submit, tempDir, waitFor, waitForJob } from './helper.js';
import { SseReader } from './sse-client.js';

const CHUNKS = Array.from({ length: 12 }, (_, i) => `Line ${i + 1} of the spec.\n`);
const KEY = 'sse-test-key-0123456789';

/**
 * A service whose fake CLI writes `chars` characters of Chinese from a file, `chunkChars` at a time
 * (more env for the fake in `extra`), with the output cap at the text's length.
 */
async function longChineseSpec(t: Parameters<typeof build>[0], chars: number, chunkChars: number, extra = {}) {
  const sentence = '系统必须让宠物主人在一分钟内完成注册并立即开始寻找附近的遛狗伙伴。\n';
  const text = sentence.repeat(Math.ceil(chars / sentence.length)).slice(0, chars);
  const file = join(tempDir(t), 'spec.md');
  writeFileSync(file, text);
  const fake = fakeGemini(t, 'text-file', {
    GEMINI_FAKE_TEXT_FILE: file,
    GEMINI_FAKE_CHUNK_CHARS: String(chunkChars),
    ...extra,
  });
  const app = await build(t, {
    config: { ...fake.config, GENERATOR_OUTPUT_LIMIT: chars },
    env: fake.env,
    listen: true,
  });
  return { app, text };
}

async function slowServer(t: Parameters<typeof build>[0], config = {}) {
  const fake = fakeGemini(t, 'ok', { GEMINI_FAKE_DELAY_MS: '40', GEMINI_FAKE_CHUNKS: JSON.stringify(CHUNKS) });
  return build(t, { config: { ...fake.config, SSE_HEARTBEAT_MS: 50, ...config }, env: fake.env, listen: true });
}

t.test(
  'a client that drops the stream and reconnects with Last-Event-ID gets every event once, then the stream ends',
  async (t) => {
    const app = await slowServer(t);
    const jobId = (await submit(app, { idea: 'A recipe planner that builds a shopping list' })).json().jobId;
    const url = `${baseUrl(app)}/api/v1/job/${jobId}/events`;

    const first = await SseReader.open(url);
    t.equal(first.statusCode, 200);
    t.match(first.headers['content-type'], /^text\/event-stream/);
    await first.until((r) => r.jobEvents().some((e) => e.status === 'processing' && typeof e.delta === 'string'));
    first.drop();
    const seen = first.jobEvents();
    const lastId = first.events.at(-1)!.id!;
    t.equal(lastId, String(seen.at(-1)!.seq), "each event's id is its seq");

    const second = await SseReader.open(url, { 'last-event-id': lastId });
    await second.untilEnded();
    const rest = second.jobEvents();
    t.ok(rest.length > 0, 'the reconnect got the rest');
    const all = [...seen, ...rest];
    t.same(
      all.map((e) => e.seq),
      all.map((_, i) => i + 1),
      'seq 1, 2, 3… across both connections: no gap, no duplicate',
    );
    t.equal(all.at(-1)!.status, 'completed', 'the stream ended after the terminal event');
    t.equal(all.filter((e) => e.status === 'completed').length, 1);
    const text = all
      .filter((e) => e.attempt === 1)
      .map((e) => e.delta ?? '')
      .join('');
    t.equal(text, CHUNKS.join(''), 'the deltas add up to the spec');
    t.ok(first.comments.concat(second.comments).includes('heartbeat'), 'heartbeat comments arrive between events');

    const snapshot = await waitForJob(app, jobId);
    t.equal(all.at(-1)!.seq, snapshot.seq, "the last event is the job's last");
  },
);

t.test(
  "?afterSeq= replays from a position; a finished job's stream ends at once; the unversioned path is the same stream",
  async (t) => {
    const app = await slowServer(t);
    const jobId = (await submit(app, { idea: 'A recipe planner that builds a shopping list' })).json().jobId;
    const done = await waitForJob(app, jobId);

    const tail = await SseReader.open(`${baseUrl(app)}/api/v1/job/${jobId}/events?afterSeq=${done.seq - 2}`);
    await tail.untilEnded();
    t.same(
      tail.jobEvents().map((e) => e.seq),
      [done.seq - 1, done.seq],
    );

    const whole = await SseReader.open(`${baseUrl(app)}/api/job/${jobId}/events`);
    await whole.untilEnded();
    t.same(
      whole.jobEvents().map((e) => e.seq),
      Array.from({ length: done.seq }, (_, i) => i + 1),
      'from the start without a position',
    );

    const nothingMissed = await SseReader.open(`${baseUrl(app)}/api/v1/job/${jobId}/events`, {
      'last-event-id': String(done.seq),
    });
    await nothingMissed.untilEnded();
    t.same(nothingMissed.jobEvents(), [], 'a client that saw everything gets nothing more and the stream ends');
  },
);

t.test("the stream follows the WebSocket's API-key rule; bad input gets a clear error", async (t) => {
  const app = await slowServer(t, { API_KEY: KEY });
  const auth = { authorization: `Bearer ${KEY}` };
  const jobId = (await submit(app, { idea: 'A recipe planner that builds a shopping list' }, auth)).json().jobId;
  const url = `${baseUrl(app)}/api/v1/job/${jobId}/events`;

  const refused = await SseReader.open(url);
  t.equal(refused.statusCode, 401, 'no key: 401');
  const allowed = await SseReader.open(url, auth);
  t.equal(allowed.statusCode, 200);
  await allowed.untilEnded();
  t.equal(allowed.jobEvents().at(-1)!.status, 'completed');

  const unknown = await app.inject({ url: '/api/v1/job/00000000-0000-4000-8000-000000000000/events', headers: auth });
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.json().code, 'JOB_NOT_FOUND');
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: `/api/v1/job/${jobId}/events`,
    headers: {
      origin: 'http://localhost:3000',
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'authorization,last-event-id',
    },
  });
  t.match(
    preflight.headers['access-control-allow-headers'],
    'last-event-id',
    'a browser page on an allowed origin may resume with Last-Event-ID',
  );
  const bad = await app.inject({
    url: `/api/v1/job/${jobId}/events`,
    headers: { ...auth, 'last-event-id': 'yesterday' },
  });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().code, 'INVALID_LAST_EVENT_ID');
});

t.test('closing the service ends open streams instead of waiting for them', async (t) => {
  const fake = fakeGemini(t, 'hang');
  const app = await build(t, { config: { ...fake.config, SSE_HEARTBEAT_MS: 50 }, env: fake.env, listen: true });
  const jobId = (await submit(app, { idea: 'A recipe planner that builds a shopping list' })).json().jobId;
  const stream = await SseReader.open(`${baseUrl(app)}/api/v1/job/${jobId}/events`);
  await stream.until((r) => r.jobEvents().length > 0);
  await app.close();
  await stream.untilEnded();
  t.ok(stream.ended);
});

t.test(
  'a client that does not read holds one event in the server, not the whole stream; when it reads, it gets every event',
  async (t) => {
    // 2,000 events of 1,500 Chinese characters: about 9 MB of stream, far more than the sockets' buffers take.
    const { app, text } = await longChineseSpec(t, 3_000_000, 1500);
    const { jobId } = (await submit(app, { idea: '一个帮助宠物主人寻找遛狗伙伴的手机应用' })).json();
    const job = await waitForJob(app, jobId, 60_000);
    t.equal(job.status, 'completed');

    const serverSockets: Socket[] = [];
    app.server.on('connection', (socket: Socket) => serverSockets.push(socket));
    const request = http.get(`${baseUrl(app)}/api/v1/job/${jobId}/events?afterSeq=0`);
    t.after(() => request.destroy());
    const response = await new Promise<http.IncomingMessage>((resolve) => request.once('response', resolve));
    t.equal(response.statusCode, 200);
    // Not read: the client's buffers fill, then the kernel's, then whatever the server keeps for it.
    const server = await waitFor(() => serverSockets.find((s) => s.writableLength > 0), {
      what: "the client's socket to stop taking data",
      timeoutMs: 20_000,
    });
    t.ok(
      server.writableLength < 100_000,
      `the server holds ${server.writableLength} bytes for the client that does not read`,
    );

    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (body += chunk));
    await new Promise((resolve) => response.once('end', resolve));
    const events = body
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => JSON.parse(line.slice(5)));
    t.same(
      events.map((e) => e.seq),
      Array.from({ length: job.seq }, (_, i) => i + 1),
      'every event once, in order',
    );
    t.equal(events.at(-1).status, 'completed');
    t.equal(events.map((e) => e.delta ?? '').join(''), text, 'the deltas add up to the spec');
  },
);

t.test(
  'a stream whose reader falls 1,000 live events behind ends; resumed with Last-Event-ID, nothing is missing',
  async (t) => {
    // 4,900 events of 1,000 Chinese characters (about 15 MB), written as fast as the fake can: more than the
    // sockets' buffers take, plus 1,000. Fewer than the 5,000 events a job keeps, so the resumed stream has them all.
    const gate = join(tempDir(t), 'gate');
    const { app, text } = await longChineseSpec(t, 4_900_000, 1000, { GEMINI_FAKE_GATE: gate });
    const { jobId } = (await submit(app, { idea: 'An app that finds dog walking partners nearby' })).json();
    const url = `${baseUrl(app)}/api/v1/job/${jobId}/events`;
    const request = http.get(url);
    t.after(() => request.destroy());
    const response = await new Promise<http.IncomingMessage>((resolve) => request.once('response', resolve));
    // Subscribed before the spec is written, and not read while it is.
    writeFileSync(gate, '');
    const job = await waitForJob(app, jobId, 60_000);
    t.equal(job.status, 'completed');

    const read = async (res: http.IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      await new Promise((resolve) => res.once('end', resolve));
      return body
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => JSON.parse(line.slice(5)));
    };
    const first = await read(response);
    t.ok(first.length > 0, `the first stream had ${first.length} events`);
    t.not(first.at(-1).status, 'completed', 'it ended before the job did: the reader was too far behind');

    const resumed = await new Promise<http.IncomingMessage>((resolve) =>
      http.get(url, { headers: { 'last-event-id': String(first.at(-1).seq) } }, resolve),
    );
    const rest = await read(resumed);
    const all = [...first, ...rest];
    t.same(
      all.map((e) => e.seq),
      Array.from({ length: job.seq }, (_, i) => i + 1),
      'every event once, in order, across the two streams',
    );
    t.equal(all.at(-1).status, 'completed');
    t.equal(all.map((e) => e.delta ?? '').join(''), text, 'the deltas add up to the spec');
  },
);
