import t from 'tap';
import WebSocket from 'ws';
import { MessageLimiter } from '../src/websocket/message-limiter.js';
import { build, fakeGemini, submit, waitFor, WsClient, wsUrl } from './helper.js';

// Hostile WebSocket clients: the abuser is throttled or cut off, and everyone
// else keeps getting their job's events. Garbage frames, the subscription cap
// per socket and oversized frames are in websocket.test.ts.

const IDEA = 'A lost-and-found board for a university campus';

t.test('the message limiter: a burst is dropped with one warning, floods and sustained excess close', async (t) => {
  const clock = { now: 0 };
  const limiter = new MessageLimiter(5, () => clock.now);
  const verdicts = Array.from({ length: 8 }, () => limiter.take());
  t.same(verdicts, ['accept', 'accept', 'accept', 'accept', 'accept', 'warn', 'drop', 'drop']);
  clock.now = 1000;
  t.equal(limiter.take(), 'accept', 'a new second, a new allowance');
  for (let i = 0; i < 5; i++) limiter.take();
  clock.now = 2000;
  for (let i = 0; i < 5; i++) limiter.take();
  t.equal(limiter.take(), 'close', 'over the limit three seconds in a row');

  const flood = new MessageLimiter(5, () => 0);
  const results = Array.from({ length: 60 }, () => flood.take());
  t.equal(results.indexOf('close'), 50, 'ten times the limit in one second closes at once');

  const quiet = new MessageLimiter(5, () => clock.now);
  for (let i = 0; i < 7; i++) quiet.take();
  clock.now += 5000;
  for (let i = 0; i < 7; i++) quiet.take();
  clock.now += 5000;
  t.same(
    Array.from({ length: 7 }, () => quiet.take()).slice(5),
    ['warn', 'drop'],
    'bursts far apart are not sustained abuse',
  );
});

t.test('a client over its message rate gets one RATE_LIMITED error and stays connected', async (t) => {
  const app = await build(t, { listen: true, config: { WS_MAX_MESSAGES_PER_SECOND: 10 } });
  const ws = await WsClient.open(wsUrl(app));
  t.after(() => ws.close());
  for (let i = 0; i < 15; i++) ws.send({ type: 'ping' });
  const error = await ws.next((m) => m.type === 'error');
  t.match(error, { code: 'RATE_LIMITED', message: /10 messages per second/ });
  await waitFor(() => ws.messages.filter((m) => m.type === 'pong').length >= 10, { what: 'the accepted pings' });
  t.ok(ws.messages.filter((m) => m.type === 'pong').length <= 10, 'dropped frames are not answered');
  t.equal(ws.messages.filter((m) => m.type === 'error').length, 1, 'one warning, not one per frame');
  t.equal(ws.closeCode, undefined);
});

t.test('10,000 messages from one client: it is closed with 1008, another client still gets every event', async (t) => {
  const chunks = Array.from({ length: 20 }, (_, i) => `part ${i}\n`);
  const fake = fakeGemini(t, 'ok', { GEMINI_FAKE_CHUNKS: JSON.stringify(chunks), GEMINI_FAKE_DELAY_MS: '50' });
  const app = await build(t, { listen: true, config: fake.config, env: fake.env });
  const { jobId } = (await submit(app, { idea: IDEA })).json();

  const victim = await WsClient.open(wsUrl(app));
  t.after(() => victim.close());
  victim.send({ type: 'subscribe-job', jobId, afterSeq: 0 });
  await victim.next((m) => m.type === 'subscribed');

  const abuser = new WebSocket(wsUrl(app));
  await new Promise((resolve) => abuser.once('open', resolve));
  const abuserClosed = new Promise<number>((resolve) => abuser.once('close', resolve));
  abuser.on('error', () => {});
  const frames = [
    '{"type":"ping"}',
    '{not json',
    Buffer.from([0xff, 0x00, 0xfe]),
    JSON.stringify({ type: 'subscribe-job', jobId }),
  ];
  for (let i = 0; i < 10_000 && abuser.readyState === WebSocket.OPEN; i++) abuser.send(frames[i % frames.length]);
  t.equal(await abuserClosed, 1008, 'the flood is cut off with policy violation');

  const end = await victim.waitForEnd(jobId);
  t.equal(end.status, 'completed');
  const events = victim.events(jobId);
  t.same(
    events.map((e) => e.seq),
    events.map((_, i) => i + 1),
    'every event, in order',
  );
  t.equal(events.map((e) => e.delta ?? '').join(''), chunks.join(''));
  const from = victim.messages.length;
  victim.send({ type: 'ping' });
  t.same(await victim.next(() => true, { from }), { type: 'pong' });
});

t.test('a subscription flood on one job holds one subscription, not thousands', async (t) => {
  const fake = fakeGemini(t, 'hang');
  const app = await build(t, {
    listen: true,
    config: { ...fake.config, WS_MAX_MESSAGES_PER_SECOND: 100_000, GEMINI_TIMEOUT_MS: 60_000 },
    env: fake.env,
  });
  const { jobId } = (await submit(app, { idea: IDEA })).json();
  const ws = await WsClient.open(wsUrl(app));
  t.after(() => ws.close());
  for (let i = 0; i < 5000; i++) ws.send({ type: 'subscribe-job', jobId });
  await waitFor(() => ws.messages.filter((m) => m.type === 'subscribed').length === 5000, {
    what: 'every subscribe answered',
  });
  t.equal(app.wsStats.subscriptions, 1);
});

t.test('connections over WS_MAX_CONNECTIONS are refused with 503 until one closes', async (t) => {
  const app = await build(t, { listen: true, config: { WS_MAX_CONNECTIONS: 3 } });
  const open = await Promise.all([1, 2, 3].map(() => WsClient.open(wsUrl(app))));
  t.after(() => Promise.all(open.map((c) => c.close())));
  await t.rejects(WsClient.open(wsUrl(app)), /unexpected response 503/);
  await open.pop()!.close();
  await waitFor(() => app.websocketServer.clients.size === 2, { what: 'the server to count the close' });
  const again = await WsClient.open(wsUrl(app));
  await again.close();
  t.pass('a freed slot can be used again');
});

t.test(
  "repeated subscribes to a job with 1 MB of text are bounded by the socket's budget, not sent 1 MB each",
  async (t) => {
    const app = await build(t, { listen: true, config: { JOB_RETENTION_MS: 0 } });
    const done = await app.inject({ method: 'POST', url: '/api/generate?wait=true', payload: { idea: IDEA } });
    const { id, jobId } = done.json();
    await waitFor(() => !app.jobs.holds(jobId), { what: 'the finished job to leave memory' });
    await app.ideas.update(id, { generatedSpec: 's'.repeat(1_000_000), outputLength: 1_000_000 });

    const ws = await WsClient.open(wsUrl(app));
    t.after(() => ws.close());
    let received = 0;
    ws.socket.on('message', (data: Buffer) => (received += data.length));
    const subscribes = 40;
    for (let i = 0; i < subscribes; i++) ws.send({ type: 'subscribe-job', jobId });
    await waitFor(() => ws.messages.filter((m) => m.jobId === jobId).length >= subscribes, {
      what: 'an answer to every subscribe',
      timeoutMs: 30_000,
    });

    const snapshots = ws.messages.filter((m) => m.type === 'subscribed');
    const refused = ws.messages.filter((m) => m.type === 'error' && m.code === 'RATE_LIMITED');
    t.equal(snapshots.length + refused.length, subscribes, 'each subscribe gets a snapshot or a refusal');
    t.ok(snapshots.length >= 1, 'the first subscribe gets its snapshot');
    t.equal(snapshots[0].text.length, 1_000_000, 'whole');
    t.ok(refused.length > 0, 'later ones are refused');
    t.ok(
      received <= app.config.WS_SNAPSHOT_BYTES_PER_MINUTE + 2_000_000,
      `the socket got ${received} bytes, within its budget, not ${subscribes} MB`,
    );
    t.match(refused[0], { jobId, retryAfterMs: Number, message: /subscribe again in \d+ s/ });
    t.ok(refused[0].retryAfterMs > 0);
    ws.send({ type: 'ping' });
    await ws.next((m) => m.type === 'pong');
    t.pass('the socket stays open');

    const other = await WsClient.open(wsUrl(app));
    t.after(() => other.close());
    other.send({ type: 'subscribe-job', jobId });
    t.equal((await other.next((m) => m.jobId === jobId)).type, 'subscribed', 'another socket has its own budget');
  },
);

t.test(
  'the send budget: a bucket of bytes refilled evenly over a minute; one reply bigger than the bucket waits for a full one',
  async (t) => {
    const { SendBudget } = await import('../src/websocket/send-budget.js');
    const clock = { now: 0 };
    const budget = new SendBudget(600, () => clock.now);
    t.same(budget.take(500), { ok: true });
    t.same(budget.take(200), { ok: false, retryAfterMs: 10_000 }, '100 bytes short: 10 s at 10 bytes a second');
    clock.now = 10_000;
    t.same(budget.take(200), { ok: true });
    t.same(budget.take(1000), { ok: false, retryAfterMs: 60_000 }, 'bigger than the bucket: wait until it is full');
    clock.now = 70_000;
    t.same(budget.take(1000), { ok: true }, 'then it goes out alone');
    t.same(budget.take(1), { ok: false, retryAfterMs: 100 });
  },
);

t.test(
  'one client holds at most WS_MAX_CONNECTIONS_PER_CLIENT sockets (429 beyond), counted apart from other clients behind the proxy',
  async (t) => {
    const app = await build(t, {
      listen: true,
      config: { WS_MAX_CONNECTIONS_PER_CLIENT: 2, TRUST_PROXY: '127.0.0.1' },
    });
    const as = (client: string) => WsClient.open(wsUrl(app), { headers: { 'x-forwarded-for': client } });
    const open = [await as('203.0.113.7'), await as('203.0.113.7')];
    t.after(() => Promise.all(open.map((c) => c.close())));
    await t.rejects(as('203.0.113.7'), /unexpected response 429/, 'a third from the same client');
    const other = await as('198.51.100.20');
    open.push(other);
    t.pass('another client behind the same proxy still gets one');
    await open.shift()!.close();
    await waitFor(
      () =>
        as('203.0.113.7').then(
          (client) => open.push(client) > 0,
          () => false,
        ),
      { what: 'the freed place to be taken again' },
    );
    t.pass('a closed socket frees its place');
  },
);
