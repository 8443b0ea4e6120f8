import t from 'tap';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import {
  ApiError,
  ConnectionError,
  createClient,
  JobCancelledError,
  JobFailedError,
  type ClientOptions,
  type JobEvent,
  type Transport,
  type WebSocketLike,
} from '../src/client/index.js';
import { baseUrl, build, fakeGemini, waitForJob } from './helper.js';
import { freePort } from './free-port.js';

const IDEA = 'A marketplace where neighbours lend each other tools';
const CHUNKS = Array.from({ length: 12 }, (_, i) =>
  i === 0 ? '# Spec\n\n' : `- requirement ${i}: the tool is returned clean ✓\n`,
);

interface Tap {
  after(fn: () => unknown): void;
}

/** A server whose generator streams CHUNKS slowly enough to watch, and a client that is closed with the test. */
async function setUp(tap: Tap, options: { mode?: string; delayMs?: number; client?: Partial<ClientOptions> } = {}) {
  const fake = fakeGemini(tap, options.mode ?? 'ok', {
    GEMINI_FAKE_DELAY_MS: String(options.delayMs ?? 30),
    GEMINI_FAKE_CHUNKS: JSON.stringify(CHUNKS),
  });
  const app = await build(tap, { config: fake.config, env: fake.env, listen: true });
  const client = createClient({ baseUrl: baseUrl(app), pollIntervalMs: 20, reconnectBaseMs: 50, ...options.client });
  tap.after(() => client.close());
  return { app, client, fake };
}

/** What a user of onUpdate sees: every update, the transports used, and the text rebuilt from deltas. */
function recorder() {
  const updates: JobEvent[] = [];
  const transports: Transport[] = [];
  return {
    updates,
    transports,
    onUpdate: (event: JobEvent) => updates.push(event),
    onTransport: (transport: Transport) => transports.push(transport),
    /** The text of the last attempt, as the deltas built it. */
    text() {
      const last = updates.at(-1)?.attempt;
      return updates
        .filter((u) => u.attempt === last)
        .map((u) => u.delta ?? '')
        .join('');
    },
    strictlyIncreasing() {
      return updates.every((u, i) => i === 0 || u.seq > updates[i - 1]!.seq);
    },
  };
}

t.test('over the WebSocket every event arrives once, in order, and the finished idea is returned', async (t) => {
  const { client } = await setUp(t);
  const seen = recorder();
  const idea = await client.generateSpec(IDEA, seen);

  t.equal(idea.status, 'completed');
  t.equal(idea.userInput, IDEA);
  t.equal(idea.generatedSpec, CHUNKS.join(''));
  t.same(seen.transports, ['websocket'], 'never had to poll');
  t.same(
    seen.updates.map((u) => u.seq),
    seen.updates.map((_, i) => i + 1),
    'seq 1, 2, 3… without a gap or a repeat',
  );
  t.same(
    seen.updates.filter((u) => u.delta).map((u) => u.delta),
    CHUNKS,
    'one update per chunk the generator wrote',
  );
  t.same([...new Set(seen.updates.map((u) => u.status))], ['queued', 'started', 'processing', 'completed']);
  t.equal(seen.updates.at(-1)?.result?.outputLength, CHUNKS.join('').length);
});

t.test('when the WebSocket path is blocked, polling still delivers the whole text in order', async (t) => {
  const refusingPort = await freePort();
  for (const [why, wsUrl] of [
    ['the path answers 404', (app: FastifyInstance) => `${baseUrl(app).replace('http', 'ws')}/blocked/ws`],
    ['the port refuses connections', () => `ws://127.0.0.1:${refusingPort}/api/ws`],
  ] as const) {
    await t.test(why, async (t) => {
      const fake = fakeGemini(t, 'ok', { GEMINI_FAKE_DELAY_MS: '30', GEMINI_FAKE_CHUNKS: JSON.stringify(CHUNKS) });
      const app = await build(t, { config: fake.config, env: fake.env, listen: true });
      const client = createClient({
        baseUrl: baseUrl(app),
        wsUrl: wsUrl(app),
        pollIntervalMs: 20,
        reconnectBaseMs: 50,
        sse: false,
      });
      t.after(() => client.close());
      const seen = recorder();

      const idea = await client.generateSpec(IDEA, seen);

      t.same(seen.transports, ['polling']);
      t.equal(seen.text(), CHUNKS.join(''), 'the deltas add up to the spec, nothing missing or repeated');
      t.equal(idea.generatedSpec, CHUNKS.join(''));
      t.ok(seen.strictlyIncreasing(), 'seq only moves forward');
      t.equal(seen.updates.at(-1)?.status, 'completed');
    });
  }
});

t.test(
  'when the WebSocket is blocked, Server-Sent Events come before polling, and polling takes over when the stream breaks',
  async (t) => {
    const blocked = `ws://127.0.0.1:${await freePort()}/api/ws`;
    const { client } = await setUp(t, { client: { wsUrl: blocked } });
    const seen = recorder();
    const idea = await client.generateSpec(IDEA, seen);
    t.same(seen.transports, ['sse'], 'the event stream, without polling');
    t.same(
      seen.updates.map((u) => u.seq),
      seen.updates.map((_, i) => i + 1),
      'every event once, in order',
    );
    t.equal(seen.text(), CHUNKS.join(''));
    t.equal(idea.generatedSpec, CHUNKS.join(''));

    const { app: dropping, client: second } = await setUp(t, { delayMs: 50, client: { wsUrl: blocked } });
    const after = recorder();
    let cut = false;
    const end = await second.generateSpec(IDEA, {
      onTransport: after.onTransport,
      onUpdate(event) {
        after.onUpdate(event);
        if (!cut && event.delta) {
          cut = true;
          // The stream's connection dies mid-job, as behind a proxy that times it out.
          dropping.server.closeAllConnections();
        }
      },
    });
    t.ok(cut);
    t.same(after.transports, ['sse', 'polling'], 'the broken stream hands over to polling');
    t.ok(after.strictlyIncreasing(), 'no update twice, none out of order');
    t.equal(after.text(), CHUNKS.join(''), 'no text lost or doubled across the hand-over');
    t.equal(end.generatedSpec, CHUNKS.join(''));
  },
);

t.test('polling restarts the text when a retry starts a new attempt', async (t) => {
  const { client } = await setUp(t, {
    mode: 'crash-once',
    client: { wsUrl: `ws://127.0.0.1:${await freePort()}/api/ws`, sse: false },
  });
  const seen = recorder();
  const idea = await client.generateSpec(IDEA, seen);
  t.equal(idea.attempts, 2);
  t.equal(seen.updates.at(-1)?.attempt, 2);
  t.equal(seen.text(), CHUNKS.join(''), 'no text of the failed attempt leaks into the second');
});

t.test(
  'when the server drops the socket mid-job the client polls, reconnects, and misses or repeats nothing',
  async (t) => {
    const { app, client } = await setUp(t, { delayMs: 50, client: { sse: false } });
    const seen = recorder();
    let dropped = false;
    const idea = await client.generateSpec(IDEA, {
      onTransport: seen.onTransport,
      onUpdate(event) {
        seen.onUpdate(event);
        if (!dropped && event.delta) {
          dropped = true;
          for (const socket of app.websocketServer.clients as Set<WebSocket>) socket.terminate();
        }
      },
    });

    t.ok(dropped);
    t.same(seen.transports, ['websocket', 'polling', 'websocket'], 'fell back, then went back to the socket');
    t.ok(seen.strictlyIncreasing(), 'no update twice, none out of order');
    t.equal(seen.text(), CHUNKS.join(''), 'no text lost or doubled across the reconnect');
    t.equal(idea.generatedSpec, CHUNKS.join(''));
  },
);

t.test('cancel stops the job; generateSpec rejects with JobCancelledError', async (t) => {
  const { client } = await setUp(t, { delayMs: 100 });
  let jobId = '';
  const generating = client.generateSpec(IDEA, {
    onAccepted: (accepted) => (jobId = accepted.jobId),
    onUpdate: (event) => {
      if (event.delta && event.seq > 0) void client.cancel(event.jobId);
    },
  });
  const err = await generating.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof JobCancelledError);
  t.equal((err as JobCancelledError).code, 'JOB_CANCELLED');

  const again = await client.cancel(jobId).catch((e: unknown) => e);
  t.ok(again instanceof ApiError);
  t.equal((again as ApiError).status, 409);
  t.equal((again as ApiError).code, 'JOB_ALREADY_FINISHED');
  t.type((again as ApiError).requestId, 'string');
});

t.test('a failed job rejects with JobFailedError carrying the job error code', async (t) => {
  const { client } = await setUp(t, { mode: 'exit41' });
  const err = await client.generateSpec(IDEA).catch((e: unknown) => e);
  t.ok(err instanceof JobFailedError);
  t.equal((err as JobFailedError).code, 'GEMINI_AUTH');
  t.equal((err as JobFailedError).jobError?.retryable, false);
});

t.test('aborting stops following; the job goes on', async (t) => {
  const { app, client } = await setUp(t, { delayMs: 50 });
  const controller = new AbortController();
  let jobId = '';
  const err = await client
    .generateSpec(IDEA, {
      signal: controller.signal,
      onAccepted: (accepted) => (jobId = accepted.jobId),
      onUpdate: (event) => event.delta && controller.abort(),
    })
    .catch((e: unknown) => e);
  t.equal((err as Error).name, 'AbortError');
  t.equal((await waitForJob(app, jobId)).status, 'completed');
});

t.test('getSpec, download and the typed errors of the HTTP calls', async (t) => {
  const { client } = await setUp(t, { delayMs: 0 });
  const idea = await client.generateSpec('Ein Werkzeugverleih für Nachbarn, mit Kalender');

  const spec = await client.getSpec(idea.id);
  t.equal(spec.generatedSpec, CHUNKS.join(''));
  const file = await client.download(idea.id);
  t.equal(file.text, CHUNKS.join(''));
  t.match(file.fileName, /\.md$/);
  t.match(file.fileName, /werkzeugverleih-für/, 'the UTF-8 file name the service suggested');

  const missing = await client.getSpec(999_999).catch((e: unknown) => e);
  t.ok(missing instanceof ApiError);
  t.equal((missing as ApiError).code, 'IDEA_NOT_FOUND');
  t.equal((missing as ApiError).status, 404);

  const tooShort = await client.generateSpec('tiny').catch((e: unknown) => e);
  t.equal((tooShort as ApiError).code, 'INVALID_IDEA');
});

t.test('a POST is retried only with its Idempotency-Key, and the retry gets the same job', async (t) => {
  const { app } = await setUp(t, { delayMs: 0 });
  const calls: Array<{ method: string; url: string; key: string | null }> = [];
  let resetNext = true;
  // The first answer to each request is lost after the server handled it, like a connection reset.
  const flaky: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    calls.push({ method: init?.method ?? 'GET', url: String(input), key: headers.get('idempotency-key') });
    const response = await fetch(input, init);
    if (resetNext) {
      resetNext = false;
      throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
    }
    return response;
  };
  const client = createClient({ baseUrl: baseUrl(app), fetch: flaky, retries: 2 });
  t.after(() => client.close());

  const accepted = await client.submit(IDEA);
  t.equal(calls.length, 2, 'submitted twice');
  t.ok(calls[0]!.key, 'with a key');
  t.equal(calls[1]!.key, calls[0]!.key, 'the same key both times');
  await waitForJob(app, accepted.jobId);
  const second = await app.inject({ method: 'GET', url: `/api/spec/${accepted.id + 1}` });
  t.equal(second.statusCode, 404, 'one idea was created, not two');

  resetNext = true;
  const cancel = await client.cancel(accepted.jobId).catch((e: unknown) => e);
  t.ok(cancel instanceof ConnectionError, 'a POST without a key fails rather than repeats');
  t.equal(calls.filter((c) => c.url.endsWith('/cancel')).length, 1);
});

t.test('an unreachable service is a ConnectionError naming the cause', async (t) => {
  const client = createClient({ baseUrl: `http://127.0.0.1:${await freePort()}`, retries: 0 });
  t.after(() => client.close());
  const err = await client.getSpec(1).catch((e: unknown) => e);
  t.ok(err instanceof ConnectionError);
  t.equal((err as ConnectionError).code, 'CONNECTION_FAILED');
  t.match((err as Error).message, /ECONNREFUSED/);
});

t.test('close() rejects the follows in progress and releases the socket', async (t) => {
  const { app, client } = await setUp(t, { delayMs: 100 });
  const generating = client.generateSpec(IDEA, { onUpdate: (event) => event.delta && client.close() });
  const err = await generating.catch((e: unknown) => e);
  t.equal((err as ConnectionError).code, 'CLIENT_CLOSED');
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(app.websocketServer.clients.size, 0, 'no socket left open');
});

t.test('history, search and delete', async (t) => {
  const { client } = await setUp(t, { delayMs: 0 });
  const first = await client.generateSpec('A bicycle repair diary with zanzibarian spoke charts');
  const second = await client.generateSpec('A shared calendar for a community garden');
  const page = await client.history({ limit: 10 });
  t.same(page.data.map((s) => s.id).sort(), [first.id, second.id].sort());
  const found = await client.search('zanzibarian');
  t.same(
    found.data.map((s) => s.id),
    [first.id],
  );
  t.match(await client.delete(first.id), { id: first.id, jobId: first.jobId, deleted: true, cancelled: false });
  t.same((await client.search('zanzibarian')).data, [], 'the search index forgot the deleted idea');
  t.equal(((await client.getSpec(first.id).catch((e: unknown) => e)) as ApiError).status, 404);
});

t.test('health and the metrics summary', async (t) => {
  const { client } = await setUp(t);
  const report = await client.health();
  t.match(report, { status: /^(OK|DEGRADED|DOWN)$/, version: String, services: { database: Object } });
  await client.getSpec(1).catch(() => undefined);
  const summary = await client.metricsSummary('5m');
  t.ok(
    summary.routes.some((r) => r.route === '/api/spec/:id'),
    "the client's own request shows in the summary",
  );
});

t.test(
  'a WebSocket that connects only after the client gave up on it is closed quietly, and the job still arrives',
  async (t) => {
    const slowSockets: Promise<unknown>[] = [];
    const { client } = await setUp(t, {
      delayMs: 60,
      client: {
        connectTimeoutMs: 40,
        // Each socket is handed over after the client's connect timeout, while it is still connecting.
        webSocket: (url) => {
          const handed = new Promise<WebSocketLike>((resolve) =>
            setTimeout(async () => {
              const { WebSocket: Ws } = await import('ws');
              resolve(new Ws(url) as unknown as WebSocketLike);
            }, 120),
          );
          slowSockets.push(handed);
          return handed;
        },
      },
    });
    const seen = recorder();
    const idea = await client.generateSpec(IDEA, seen);
    t.equal(idea.status, 'completed', 'an uncaught error from a given-up socket would have ended this test instead');
    t.equal(idea.generatedSpec, CHUNKS.join(''));
    t.ok(slowSockets.length >= 1, 'the client tried the WebSocket');
    t.ok(
      seen.transports.length > 0 && !seen.transports.includes('websocket'),
      'every socket came too late: SSE or polling carried it',
    );
  },
);
