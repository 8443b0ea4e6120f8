import { Parser } from '@asyncapi/parser';
import t from 'tap';
import { JobEvent } from '../src/schemas/jobs.js';
import { SubscribeMessage, WsErrorMessage } from '../src/schemas/ws.js';
import { baseUrl, build, submit, waitForJob, WsClient } from './helper.js';

const KEY = 'contract-test-key-0123456789';

t.test('the AsyncAPI document parses, and its messages are the schemas the server validates with', async (t) => {
  for (const config of [{}, { API_KEY: KEY }]) {
    const app = await build(t, { config: { ...config, PUBLIC_URL: 'https://idea2spec.example.org' } });
    const text = (await app.inject({ url: '/api/docs/asyncapi.json' })).body;
    const { document, diagnostics } = await new Parser().parse(text);
    const errors = diagnostics.filter((d) => d.severity === 0);
    t.same(
      errors.map((d) => d.message),
      [],
      'no parser errors',
    );
    t.ok(document, 'a document');
    const raw = JSON.parse(text);
    t.equal(raw.asyncapi, '3.0.0');
    t.equal(raw.servers.service.host, 'idea2spec.example.org');
    t.equal(raw.servers.service.protocol, 'wss');
    t.equal(raw.channels.jobUpdates.address, '/api/v1/ws');
    t.same(
      raw.components.messages.subscribeJob.payload,
      JSON.parse(JSON.stringify(SubscribeMessage)),
      "subscribe-job: the server's own schema",
    );
    t.same(raw.components.messages.jobUpdate.payload, JSON.parse(JSON.stringify(JobEvent)));
    t.same(raw.components.messages.error.payload, JSON.parse(JSON.stringify(WsErrorMessage)), 'the error codes');
    t.equal(
      Boolean(raw.servers.service.security),
      'API_KEY' in config,
      'auth appears exactly when the service has a key',
    );
    const operations = document!
      .operations()
      .all()
      .map((o) => o.id());
    t.ok(['subscribeJob', 'unsubscribeJob', 'ping', 'receiveJobUpdates'].every((id) => operations.includes(id)));
  }
  const app = await build(t);
  const page = (await app.inject({ url: '/api/docs/json' })).json();
  t.match(
    page.info.description,
    /\/api\/docs\/asyncapi\.json/,
    'linked from the OpenAPI description the docs page shows',
  );
});

t.test('/api/v1 paths answer exactly like the unversioned ones', async (t) => {
  const app = await build(t, { listen: true });
  const accepted = await submit(app, { idea: 'A recipe planner that builds a shopping list' });
  const v1 = await app.inject({
    method: 'POST',
    url: '/api/v1/generate',
    payload: { idea: 'A tool that plans a garden by season' },
  });
  t.equal(v1.statusCode, 202);
  t.match(v1.json().statusUrl, /^\/api\/v1\/job\//, 'a versioned call links to versioned paths');
  t.match(v1.json().websocketUrl, /\/api\/v1\/ws$/);
  t.match(accepted.json().statusUrl, /^\/api\/job\//, 'the alias links to the aliases');
  const { jobId, id } = accepted.json();
  await waitForJob(app, jobId);
  await waitForJob(app, v1.json().jobId);

  const stats = await Promise.all([
    app.inject({ url: '/api/history/stats' }),
    app.inject({ url: '/api/v1/history/stats' }),
  ]);
  t.same(Object.keys(stats[1].json()), Object.keys(stats[0].json()), '/history/stats: the same report');
  t.same(
    [stats[1].json().total, stats[1].json().byStatus],
    [stats[0].json().total, stats[0].json().byStatus],
    '/history/stats: the same counts',
  );
  for (const path of [
    `/job/${jobId}/status`,
    `/spec/${id}`,
    '/history?limit=5',
    `/download/${id}`,
    '/job/00000000-0000-4000-8000-000000000000/status',
    '/spec/abc',
  ]) {
    const [plain, versioned] = await Promise.all([
      app.inject({ url: `/api${path}` }),
      app.inject({ url: `/api/v1${path}` }),
    ]);
    t.equal(versioned.statusCode, plain.statusCode, `${path}: same status`);
    const strip = (body: string) => body.replace(/"requestId":"[^"]*"/, '');
    t.equal(strip(versioned.body), strip(plain.body), `${path}: same body`);
  }
  const ws = await WsClient.open(`${baseUrl(app).replace('http', 'ws')}/api/v1/ws`);
  t.after(() => ws.close());
  ws.send({ type: 'subscribe-job', jobId });
  t.equal(
    (await ws.next((m) => m.type === 'subscribed')).status,
    'completed',
    'the WebSocket answers at /api/v1/ws too',
  );
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/history/${id}` })).statusCode, 200);
  t.equal((await app.inject({ url: `/api/spec/${id}` })).statusCode, 404, 'deleted through v1, gone from the alias');
});

t.test('a path and its alias share one rate limit', async (t) => {
  const app = await build(t, { config: { GENERATE_RATE_LIMIT_MAX: 2 } });
  const post = (url: string) =>
    app.inject({ method: 'POST', url, payload: { idea: 'A recipe planner that builds a shopping list' } });
  t.equal((await post('/api/generate')).statusCode, 202);
  t.equal((await post('/api/v1/generate')).statusCode, 202);
  const third = await post('/api/generate');
  t.equal(third.statusCode, 429, 'the third POST is refused, whichever path the first two took');
  t.equal(third.json().code, 'RATE_LIMITED');
  t.equal((await post('/api/v1/generate')).statusCode, 429);
});
