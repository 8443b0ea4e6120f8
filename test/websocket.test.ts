import t from 'tap';
import WebSocket from 'ws';
import { build, fakeGemini, submit, waitFor, waitForJob, WsClient, wsUrl } from './helper.js';

const IDEA = 'A board-game library for a café, with reservations and late fees';
const CHUNKS = JSON.stringify(Array.from({ length: 12 }, (_, i) => `## Part ${i + 1}\nText ${i + 1}.\n`));

async function slowApp(t: Parameters<typeof build>[0], delayMs = 60) {
  const fake = fakeGemini(t, 'ok', { GEMINI_FAKE_DELAY_MS: String(delayMs), GEMINI_FAKE_CHUNKS: CHUNKS });
  const app = await build(t, { listen: true, config: fake.config, env: fake.env });
  return { app, url: wsUrl(app) };
}

t.test('a late subscriber with afterSeq gets exactly the events it missed, then live ones', async (t) => {
  const { app, url } = await slowApp(t);
  const early = await WsClient.open(url);
  t.teardown(() => early.close());
  const { jobId } = (await submit(app, { idea: IDEA })).json();
  early.send({ type: 'subscribe-job', jobId, afterSeq: 0 });
  // Wait until a few deltas have gone by, then join late from the seq the early client saw at that point.
  const seen = await early.next((m) => m.type === 'job-update' && m.delta && m.progress.chunks >= 4);
  const late = await WsClient.open(url);
  t.teardown(() => late.close());
  late.send({ type: 'subscribe-job', jobId, afterSeq: seen.seq });
  const subscribed = await late.next((m) => m.type === 'subscribed');
  t.ok(subscribed.seq >= seen.seq, 'the snapshot is at or after the point the client had reached');
  await Promise.all([early.waitForEnd(jobId), late.waitForEnd(jobId)]);

  const all = early.events(jobId);
  t.same(
    all.map((e) => e.seq),
    all.map((_, i) => i + 1),
    'the early client saw every seq once',
  );
  t.same(
    late.events(jobId),
    all.filter((e) => e.seq > seen.seq),
    'the late client got exactly the events after afterSeq, in order, once',
  );
  const text = all.map((e) => e.delta ?? '').join('');
  t.equal(
    all
      .filter((e) => e.seq <= seen.seq)
      .map((e) => e.delta ?? '')
      .join('') +
      late
        .events(jobId)
        .map((e) => e.delta ?? '')
        .join(''),
    text,
  );
});

t.test('without afterSeq a subscriber gets the snapshot text, then only live events', async (t) => {
  const { app, url } = await slowApp(t);
  const { jobId } = (await submit(app, { idea: IDEA })).json();
  await waitFor(async () => ((await app.jobs.snapshot(jobId))?.progress.chunks ?? 0) >= 3, { what: 'some text' });
  const ws = await WsClient.open(url);
  t.teardown(() => ws.close());
  ws.send({ type: 'subscribe-job', jobId });
  const subscribed = await ws.next((m) => m.type === 'subscribed');
  t.ok(subscribed.text.length > 0, 'the snapshot carries the text so far');
  const end = await ws.waitForEnd(jobId);
  const live = ws.events(jobId);
  t.equal(live[0].seq, subscribed.seq + 1, 'live events continue right after the snapshot');
  t.equal(
    subscribed.text + live.map((e) => e.delta ?? '').join(''),
    (await app.inject({ url: `/api/job/${jobId}/status` })).json().text,
  );
  t.equal(end.status, 'completed');
});

t.test('two subscribers both get every event', async (t) => {
  const { app, url } = await slowApp(t, 20);
  const a = await WsClient.open(url);
  const b = await WsClient.open(url);
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const { jobId } = (await submit(app, { idea: IDEA })).json();
  a.send({ type: 'subscribe-job', jobId, afterSeq: 0 });
  b.send({ type: 'subscribe-job', jobId, afterSeq: 0 });
  await Promise.all([a.waitForEnd(jobId), b.waitForEnd(jobId)]);
  t.ok(a.events(jobId).length > 12);
  t.same(a.events(jobId), b.events(jobId));
});

t.test('bad frames get error frames and the socket stays usable', async (t) => {
  const app = await build(t, { listen: true });
  const ws = await WsClient.open(wsUrl(app));
  t.teardown(() => ws.close());
  const cases: Array<[unknown, string]> = [
    ['{not json', 'INVALID_JSON'],
    ['"a string"', 'UNKNOWN_TYPE'],
    [{ type: 'launch-missiles' }, 'UNKNOWN_TYPE'],
    [{ no: 'type' }, 'UNKNOWN_TYPE'],
    [{ type: 'subscribe-job' }, 'INVALID_MESSAGE'],
    [{ type: 'subscribe-job', jobId: 'not-a-uuid' }, 'INVALID_MESSAGE'],
    [{ type: 'subscribe-job', jobId: '00000000-0000-4000-8000-000000000000', afterSeq: -1 }, 'INVALID_MESSAGE'],
    [{ type: 'subscribe-job', jobId: '00000000-0000-4000-8000-000000000000' }, 'JOB_NOT_FOUND'],
  ];
  for (const [frame, code] of cases) {
    const from = ws.messages.length;
    ws.send(frame);
    const reply = await ws.next(() => true, { from });
    t.match(reply, { type: 'error', code, message: String }, `${JSON.stringify(frame)} -> ${code}`);
  }
  const from = ws.messages.length;
  ws.send({ type: 'ping' });
  t.same(await ws.next(() => true, { from }), { type: 'pong' }, 'still answering after all of that');
});

t.test('subscribe to a finished job: snapshot only; unsubscribe is acknowledged', async (t) => {
  const app = await build(t, { listen: true });
  const { jobId } = (await submit(app, { idea: IDEA })).json();
  const done = await waitForJob(app, jobId);
  const ws = await WsClient.open(wsUrl(app));
  t.teardown(() => ws.close());
  ws.send({ type: 'subscribe-job', jobId });
  t.same(await ws.next((m) => m.type === 'subscribed'), {
    type: 'subscribed',
    jobId,
    status: 'completed',
    seq: done.seq,
    text: done.text,
  });
  ws.send({ type: 'unsubscribe-job', jobId });
  t.same(await ws.next((m) => m.type === 'unsubscribed'), { type: 'unsubscribed', jobId });
});

t.test('a subscription cap per socket', async (t) => {
  const fake = fakeGemini(t, 'hang');
  const app = await build(t, {
    listen: true,
    config: { ...fake.config, WS_MAX_SUBSCRIPTIONS: 2, GEMINI_TIMEOUT_MS: 60_000 },
    env: fake.env,
  });
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await submit(app, { idea: `${IDEA} #${i}` })).json().jobId);
  const ws = await WsClient.open(wsUrl(app));
  t.teardown(() => ws.close());
  for (const jobId of ids) ws.send({ type: 'subscribe-job', jobId });
  const error = await ws.next((m) => m.type === 'error');
  t.match(error, { code: 'TOO_MANY_SUBSCRIPTIONS', jobId: ids[2] });
  t.equal(ws.messages.filter((m) => m.type === 'subscribed').length, 2);
});

t.test('a frame over the size limit closes the socket with 1009', async (t) => {
  const app = await build(t, { listen: true, config: { WS_MAX_PAYLOAD: 1024 } });
  const ws = await WsClient.open(wsUrl(app));
  ws.send({ type: 'ping', padding: 'x'.repeat(2048) });
  await waitFor(() => ws.closeCode !== undefined, { what: 'the close' });
  t.equal(ws.closeCode, 1009);
});

t.test('a socket that stops answering pings is terminated', async (t) => {
  const app = await build(t, { listen: true, config: { WS_HEARTBEAT_MS: 100 } });
  const socket = new WebSocket(wsUrl(app), { autoPong: false });
  const closed = new Promise<number>((resolve) => socket.once('close', resolve));
  await new Promise((resolve) => socket.once('open', resolve));
  t.equal(await closed, 1006, 'terminated without a close frame');
  await waitFor(() => app.wsStats.connections === 0, { what: 'the server to forget the socket' });
  t.pass('the server dropped it');
});

t.test('on shutdown clients get close code 1001', async (t) => {
  const app = await build(t, { listen: true });
  const ws = await WsClient.open(wsUrl(app));
  await app.close();
  await waitFor(() => ws.closeCode !== undefined, { what: 'the close' });
  t.equal(ws.closeCode, 1001);
});

t.test('a WebSocket from an origin that is not allowed is refused', async (t) => {
  const app = await build(t, { listen: true, config: { ALLOWED_ORIGINS: 'https://app.example.com' } });
  const url = wsUrl(app);
  await t.rejects(WsClient.open(url, { origin: 'https://evil.example.net' }), /unexpected response 403/);
  const ok = await WsClient.open(url, { origin: 'https://app.example.com' });
  await ok.close();
  t.pass('the allowed origin connects');
});

t.test(
  'subscriptions to finished jobs are released, so one socket can follow any number of jobs in turn',
  async (t) => {
    const app = await build(t, { listen: true, config: { WS_MAX_SUBSCRIPTIONS: 2 } });
    const ws = await WsClient.open(wsUrl(app));
    t.teardown(() => ws.close());
    for (let i = 0; i < 5; i++) {
      const { jobId } = (await submit(app, { idea: `${IDEA} #${i}` })).json();
      ws.send({ type: 'subscribe-job', jobId, afterSeq: 0 });
      t.equal((await ws.waitForEnd(jobId)).status, 'completed', `job ${i}`);
    }
    t.equal(ws.messages.filter((m) => m.type === 'error').length, 0, 'never hit the cap');
    await waitFor(() => app.wsStats.subscriptions === 0, { what: 'subscriptions to be released' });
    t.pass('no subscription is left');
  },
);
