import t from 'tap';
import { baseUrl, build, fakeGemini, submit, waitFor, waitForJob, WsClient, wsUrl } from './helper.js';
import { OFFLINE_LABEL } from '../src/generators/offline/drafter.js';

const IDEA = 'A marketplace where neighbours lend each other tools, with deposits and ratings';

t.test('an idea becomes a spec: POST, follow over WebSocket, poll, read, download', async (t) => {
  const app = await build(t, { listen: true });
  const res = await fetch(`${baseUrl(app)}/api/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ idea: IDEA }),
  });
  t.equal(res.status, 202);
  const accepted = await res.json();
  t.match(accepted, { jobId: /^[0-9a-f-]{36}$/, id: Number, statusUrl: `/api/job/${accepted.jobId}/status` });
  t.equal(accepted.websocketUrl, `${baseUrl(app).replace('http', 'ws')}/api/ws`);
  t.equal(res.headers.get('location'), accepted.statusUrl);

  const ws = await WsClient.open(accepted.websocketUrl);
  t.teardown(() => ws.close());
  ws.send({ type: 'subscribe-job', jobId: accepted.jobId, afterSeq: 0 });
  const subscribed = await ws.next((m) => m.type === 'subscribed');
  t.equal(subscribed.jobId, accepted.jobId);
  const last = await ws.waitForEnd(accepted.jobId);
  t.equal(last.status, 'completed');

  const events = ws.events(accepted.jobId);
  t.same(
    events.map((e) => e.seq),
    events.map((_, i) => i + 1),
    'seq runs 1, 2, 3… without gaps or duplicates',
  );
  const order = [...new Set(events.map((e) => e.status))];
  t.same(order, ['queued', 'started', 'processing', 'completed'], 'statuses arrive in lifecycle order');
  const streamed = events.map((e) => e.delta ?? '').join('');
  t.ok(events.filter((e) => e.delta).length > 1, 'the text arrives in several deltas');
  t.ok(last.result!.outputLength > 0);

  const status = (await app.inject({ url: accepted.statusUrl })).json();
  const spec = (await app.inject({ url: `/api/spec/${accepted.id}` })).json();
  t.equal(status.status, 'completed');
  t.equal(status.seq, last.seq, 'polling reports the last seq');
  t.equal(status.text, streamed, 'polling and the WebSocket agree on the text');
  t.equal(spec.generatedSpec, streamed, 'the stored spec is what was streamed');
  t.equal(spec.userInput, IDEA);
  t.equal(spec.generator, 'offline');
  t.match(spec.generatedSpec, OFFLINE_LABEL, 'the offline drafter labels what it writes');
  t.equal(spec.outputLength, streamed.length);

  const download = await app.inject({ url: `/api/download/${accepted.id}` });
  t.equal(download.statusCode, 200);
  t.equal(download.headers['content-type'], 'text/markdown; charset=utf-8');
  t.match(
    download.headers['content-disposition'],
    /^attachment; filename="spec-\d+-a-marketplace-where-neighbours[a-z0-9-]*\.md"/,
  );
  t.equal(download.body, streamed);
});

t.test('?wait=true answers with the finished idea, like GET /api/spec/:id', async (t) => {
  const app = await build(t);
  const res = await app.inject({
    method: 'POST',
    url: '/api/generate?wait=true',
    payload: { idea: IDEA, template: 'lean' },
  });
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.equal(body.status, 'completed');
  t.equal(body.template, 'lean');
  t.match(body.generatedSpec, /^> \*\*Offline draft/);
  t.same(body, (await app.inject({ url: `/api/spec/${body.id}` })).json());
});

t.test('bad input gets a clear 400 and stores nothing', async (t) => {
  const app = await build(t);
  const cases: Array<[string, unknown, RegExp]> = [
    ['too short after trimming', { idea: '   short   ' }, /too short: 5 characters/],
    ['too long', { idea: 'x'.repeat(5001) }, /too long: 5001 characters/],
    ['missing idea', {}, /idea/],
    ['idea not a string', { idea: 42 }, /idea/],
    ['unknown template', { idea: IDEA, template: 'evil' }, /template/],
    ['a flag as model', { idea: IDEA, model: '--yolo' }, /model/],
    ['an approval-mode flag as model', { idea: IDEA, model: '--approval-mode=yolo' }, /model/],
    ['a model with spaces', { idea: IDEA, model: 'gemini pro; rm -rf /' }, /model/],
    ['unknown field', { idea: IDEA, extra: true }, /additional/],
  ];
  for (const [name, payload, message] of cases) {
    const res = await submit(app, payload as Record<string, unknown>);
    t.equal(res.statusCode, 400, name);
    const body = res.json();
    t.match(body, { statusCode: 400, error: 'Bad Request', message, requestId: String }, name);
    t.equal(res.headers['x-request-id'], body.requestId, `${name}: the request id is in the header too`);
  }
  const notJson = await app.inject({
    method: 'POST',
    url: '/api/generate',
    headers: { 'content-type': 'application/json' },
    payload: '{"idea": "unterminated',
  });
  t.equal(notJson.statusCode, 400);
  t.equal(notJson.json().statusCode, 400);
  t.equal((await app.inject({ url: '/api/spec/1' })).statusCode, 404, 'no idea was stored');
});

t.test('a 10-character idea in any script is valid; characters are counted, not bytes', async (t) => {
  const app = await build(t);
  for (const idea of [
    '家務分工應用程式幫助室友',
    '🏠🧹🧺🍳🛒🧾📅🔔👥✅',
    'مشاركة الأعمال المنزلية',
    'Совместные дела по дому',
  ]) {
    const res = await app.inject({ method: 'POST', url: '/api/generate?wait=true', payload: { idea } });
    t.equal(res.statusCode, 200, idea);
    t.equal(res.json().userInput, idea, 'stored exactly as sent');
  }
  t.equal(
    (await submit(app, { idea: '🏠🧹🧺🍳🛒🧾📅🔔👥' })).statusCode,
    400,
    'nine emoji are nine characters: too short',
  );
});

t.test(
  'text that cannot be stored exactly (NUL, an unpaired surrogate) is a 400 that says why, also on an identical retry, and stores nothing',
  async (t) => {
    const app = await build(t);
    const cases: Array<[string, string, RegExp]> = [
      ['a NUL', 'A tool library\u0000 for the neighbourhood', /NUL character \(U\+0000\) at position 15/],
      [
        'a lone high surrogate',
        'A tool library \ud800 for the neighbourhood',
        /unpaired surrogate \(U\+D800\) at position 16/,
      ],
      ['a lone low surrogate', 'A tool library for the neighbourhood \udc00', /unpaired surrogate \(U\+DC00\)/],
    ];
    for (const [name, idea, why] of cases) {
      for (const round of ['first', 'identical retry']) {
        const res = await submit(app, { idea }, { 'idempotency-key': `unstorable-${name.replace(/ /g, '-')}` });
        t.equal(res.statusCode, 400, `${name}, ${round}`);
        t.match(res.json(), { code: 'INVALID_IDEA', message: why }, `${name}, ${round}: says why`);
      }
    }
    t.equal((await app.inject({ url: '/api/spec/1' })).statusCode, 404, 'nothing was stored');
    const pair = 'Emoji in pairs are fine: 🧰🔧 and 𝒳';
    const ok = await app.inject({ method: 'POST', url: '/api/generate?wait=true', payload: { idea: pair } });
    t.equal(ok.json().userInput, pair, 'a well-formed surrogate pair is stored exactly');
  },
);

t.test('length counts the characters a person sees: grapheme clusters, not invisible ones', async (t) => {
  const app = await build(t);
  const tooShort: Array<[string, string, number]> = [
    ['only zero-width spaces', '\u200b'.repeat(30), 0],
    ['only combining marks', '\u0301'.repeat(30), 0],
    [
      'zero-width joiners and word joiners around four letters',
      '\u200dc\u2060a\u200bf\u200de\u200b\u200b\u200b\u200b',
      4,
    ],
    ['Hindi words whose vowel signs are marks (15 code points, 7 characters)', 'किताबें किताबें', 7],
    ['nine ZWJ families (63 code points)', '👨‍👩‍👧‍👦'.repeat(9), 9],
  ];
  for (const [name, idea, seen] of tooShort) {
    const res = await submit(app, { idea });
    t.equal(res.statusCode, 400, name);
    t.match(res.json().message, new RegExp(`too short: ${seen} characters a person can see`), name);
  }
  const valid = [
    '家務分工應用程式幫助室友',
    'تطبيقٌ لِتَقاسُمِ الأعمالِ المنزلية',
    'पढ़ने की किताबें साझा करने का ऐप',
    '👨‍👩‍👧‍👦'.repeat(10),
    'A\u200bplanner for\u00a0shared kitchens',
  ];
  for (const idea of valid) {
    const headers = { 'idempotency-key': `valid-${valid.indexOf(idea)}` };
    const res = await submit(app, { idea }, headers);
    t.equal(res.statusCode, 202, idea);
    const done = await waitForJob(app, res.json().jobId);
    t.equal(done.status, 'completed');
    t.equal((await app.inject({ url: `/api/spec/${res.json().id}` })).json().userInput, idea, 'stored exactly as sent');
    const again = await submit(app, { idea }, headers);
    t.equal(again.headers['idempotent-replayed'], 'true', 'an identical retry replays');
    t.equal(again.json().jobId, res.json().jobId);
  }
});

t.test('the same Idempotency-Key returns the same job and runs the CLI once', async (t) => {
  const fake = fakeGemini(t, 'ok');
  const app = await build(t, { config: fake.config, env: fake.env });
  const headers = { 'idempotency-key': 'order-7f3a' };
  const first = await submit(app, { idea: IDEA }, headers);
  const second = await submit(app, { idea: IDEA }, headers);
  t.equal(first.statusCode, 202);
  t.equal(second.statusCode, 202);
  t.equal(second.json().jobId, first.json().jobId);
  t.equal(second.json().id, first.json().id);
  t.equal(second.headers['idempotent-replayed'], 'true');
  await waitForJob(app, first.json().jobId);
  const third = await submit(app, { idea: IDEA }, headers);
  t.equal(third.json().jobId, first.json().jobId, 'also after the job has finished');
  t.equal(fake.calls().length, 1, 'the CLI ran once');

  const conflict = await submit(app, { idea: `${IDEA}, but different` }, headers);
  t.equal(conflict.statusCode, 422);
  t.equal(conflict.json().code, 'IDEMPOTENCY_KEY_REUSED');

  const concurrent = await Promise.all(
    [1, 2, 3, 4].map(() => submit(app, { idea: IDEA }, { 'idempotency-key': 'race-1' })),
  );
  t.equal(new Set(concurrent.map((r) => r.json().jobId)).size, 1, 'concurrent requests with one key share one job');
});

t.test('ideas with shell metacharacters, quotes, emoji and Chinese reach the CLI stdin byte for byte', async (t) => {
  const fake = fakeGemini(t, 'ok');
  const app = await build(t, { config: fake.config, env: fake.env });
  const ideas = [
    `$(rm -rf /) \`whoami\` ; | && > /etc/passwd "double" 'single' \\ $HOME %PATH% -- --yolo`,
    '家務分工應用程式：讓室友公平分配家務並追蹤完成情況 🧹🧺',
    'Ünïcödé ñ ß ø — “smart quotes” ‘x’ \u200b zero-width and \ttab\nnewline\r\nCRLF',
    'O\'Brien\'s app: "AND (" * - NEAR( ) :: {} [] <script>alert(1)</script>',
  ];
  for (const idea of ideas) {
    const res = await app.inject({ method: 'POST', url: '/api/generate?wait=true', payload: { idea } });
    t.equal(res.json().status, 'completed');
    t.equal(res.json().userInput, idea, 'stored unchanged');
  }
  const calls = fake.calls();
  t.equal(calls.length, ideas.length);
  for (const [i, idea] of ideas.entries()) {
    t.ok(calls[i].stdin.includes(idea), `idea ${i} is in the prompt on stdin, unchanged`);
    t.notOk(
      calls[i].argv.some((a: string) => a.includes(idea.slice(0, 12))),
      `idea ${i} is not in argv`,
    );
  }
  t.same(calls[0].argv, ['--output-format', 'stream-json', '--skip-trust'], "argv holds only the service's own flags");
});

t.test('the generator runs with an allow-listed environment in an empty private folder', async (t) => {
  const fake = fakeGemini(t, 'ok', { IDEA2SPEC_TEST_SECRET: 'must-not-leak', GOOGLE_CLOUD_PROJECT: 'p1' });
  const app = await build(t, {
    config: { ...fake.config, GEMINI_CLI_HOME: '/tmp/gemini-home-for-test' },
    env: fake.env,
  });
  await app.inject({ method: 'POST', url: '/api/generate?wait=true', payload: { idea: IDEA } });
  const [call] = fake.calls();
  t.equal(call.env.SECRET, null, 'variables outside the allow-list do not reach the CLI');
  t.equal(call.env.HOME, '/tmp/gemini-home-for-test', "GEMINI_CLI_HOME becomes the CLI's HOME");
  t.match(call.cwd, /idea2spec-[^/]+\/work$/);
  t.match(call.env.TMPDIR, /idea2spec-[^/]+\/tmp$/);
  const { existsSync } = await import('node:fs');
  t.notOk(existsSync(call.cwd), 'the working folder is removed after the attempt');
});

t.test('GENERATOR=command runs any stdin/stdout CLI', async (t) => {
  const { fixture } = await import('./helper.js');
  const app = await build(t, {
    config: { GENERATOR: 'command', GENERATOR_COMMAND: JSON.stringify([fixture('echo-generator.mjs')]) },
  });
  const res = await app.inject({ method: 'POST', url: '/api/generate?wait=true', payload: { idea: IDEA } });
  t.equal(res.json().status, 'completed');
  t.equal(res.json().generator, 'command');
  t.match(res.json().generatedSpec, /^# Specification\n\nPrompt length: \d+\n$/);
});

t.test('a full queue answers 503 with Retry-After', async (t) => {
  const fake = fakeGemini(t, 'hang');
  const app = await build(t, {
    config: { ...fake.config, JOB_CONCURRENCY: 1, JOB_QUEUE_LIMIT: 1, GEMINI_TIMEOUT_MS: 60_000 },
    env: fake.env,
  });
  const running = await submit(app, { idea: IDEA });
  const waiting = await submit(app, { idea: IDEA });
  const rejected = await submit(app, { idea: IDEA });
  t.equal(running.statusCode, 202);
  t.equal(waiting.statusCode, 202);
  t.equal(waiting.json().status, 'queued');
  t.equal(rejected.statusCode, 503);
  t.equal(rejected.json().code, 'QUEUE_FULL');
  t.ok(Number(rejected.headers['retry-after']) > 0);
  for (const r of [running, waiting]) await app.inject({ method: 'POST', url: `/api/job/${r.json().jobId}/cancel` });
});

t.test('the OpenAPI document covers every route, the WebSocket included', async (t) => {
  const app = await build(t);
  const doc = (await app.inject({ url: '/api/docs/json' })).json();
  for (const path of [
    '/api/generate',
    '/api/job/{jobId}/status',
    '/api/job/{jobId}/cancel',
    '/api/spec/{id}',
    '/api/download/{id}',
    '/api/ws',
  ]) {
    t.ok(doc.paths[path], `${path} is documented`);
  }
  t.match(doc.paths['/api/ws'].get.description, /subscribe-job/);
  t.ok(doc.components.schemas.JobEvent, 'the event envelope is a named schema');
  t.ok(doc.paths['/api/generate'].post.responses['503'], 'each status is documented');
  const ui = await app.inject({ url: '/api/docs' });
  t.ok([200, 302].includes(ui.statusCode), 'Swagger UI is served');
});

t.test('a job id in upper case finds the same job over HTTP and WebSocket (UUIDs are case-insensitive)', async (t) => {
  const fake = fakeGemini(t, 'hang');
  const app = await build(t, { listen: true, config: { ...fake.config, GEMINI_TIMEOUT_MS: 60_000 }, env: fake.env });
  const { jobId } = (await submit(app, { idea: IDEA })).json();
  const upper = jobId.toUpperCase();
  t.not(upper, jobId);
  const status = await app.inject({ url: `/api/job/${upper}/status` });
  t.equal(status.statusCode, 200);
  t.equal(status.json().jobId, jobId, 'answered with the canonical id');

  const ws = await WsClient.open(wsUrl(app));
  t.after(() => ws.close());
  ws.send({ type: 'subscribe-job', jobId: upper });
  t.match(await ws.next((m) => m.type === 'subscribed' || m.type === 'error'), { type: 'subscribed', jobId });

  const cancelled = await app.inject({ method: 'POST', url: `/api/job/${upper}/cancel` });
  t.equal(cancelled.statusCode, 202);
  t.equal(
    (await ws.waitForEnd(jobId)).status,
    'cancelled',
    'the subscription made with the upper-case id gets the events',
  );

  // Also once the job has left memory and only its row knows it.
  const stored = await build(t, { config: { JOB_RETENTION_MS: 0 } });
  const done = (
    await stored.inject({ method: 'POST', url: '/api/generate?wait=true', payload: { idea: IDEA } })
  ).json();
  await waitFor(() => !stored.jobs.holds(done.jobId), { what: 'the job to leave memory' });
  const fromRow = await stored.inject({ url: `/api/job/${done.jobId.toUpperCase()}/status` });
  t.equal(fromRow.statusCode, 200);
  t.match(fromRow.json(), { jobId: done.jobId, status: 'completed' });
});

t.test('a job id as a URN (urn:uuid:…) is a 400 on every job route, as over the WebSocket, not a 404', async (t) => {
  const app = await build(t, { listen: true });
  const { jobId } = (
    await app.inject({ method: 'POST', url: '/api/generate?wait=true', payload: { idea: IDEA } })
  ).json();
  for (const id of [`urn:uuid:${jobId}`, `URN:UUID:${jobId.toUpperCase()}`]) {
    for (const [method, url] of [
      ['GET', `/api/job/${id}/status`],
      ['GET', `/api/v1/job/${id}/events`],
      ['POST', `/api/job/${id}/cancel`],
    ] as const) {
      const res = await app.inject({ method, url });
      t.equal(res.statusCode, 400, `${method} ${url}`);
      t.equal(res.json().code, 'FST_ERR_VALIDATION', `${method} ${url}`);
    }
  }
  const ws = await WsClient.open(wsUrl(app));
  t.after(() => ws.close());
  ws.send({ type: 'subscribe-job', jobId: `urn:uuid:${jobId}` });
  t.match(await ws.next((m) => m.type === 'subscribed' || m.type === 'error'), {
    type: 'error',
    code: 'INVALID_MESSAGE',
  });
});

t.test(
  'a known path asked with another method is a 405 naming the methods it takes; an unknown one a 404',
  async (t) => {
    const app = await build(t);
    const cases: Array<[string, string, string]> = [
      ['PUT', '/api/spec/1', 'GET, HEAD'],
      ['PATCH', '/api/history/1', 'DELETE'],
      ['DELETE', '/api/generate', 'POST'],
      ['GET', '/api/v1/generate', 'POST'],
      ['PUT', `/api/v1/job/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/status`, 'GET, HEAD'],
    ];
    for (const [method, url, allow] of cases) {
      const res = await app.inject({ method: method as 'PUT', url });
      t.equal(res.statusCode, 405, `${method} ${url}`);
      t.equal(res.headers.allow, allow, `${method} ${url}: Allow`);
      t.match(res.json(), {
        statusCode: 405,
        code: 'METHOD_NOT_ALLOWED',
        error: 'Method Not Allowed',
        requestId: String,
      });
    }
    const unknown = await app.inject({ method: 'PUT', url: '/api/nothing/here' });
    t.equal(unknown.statusCode, 404);
    t.equal(unknown.json().code, 'ROUTE_NOT_FOUND');
    t.equal(unknown.headers.allow, undefined);
  },
);

t.test('a JSON value of the wrong type is refused as such, not coerced into a string', async (t) => {
  const app = await build(t);
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ idea: null }, 'body/idea must be string'],
    [{ idea: 1234567890123 }, 'body/idea must be string'],
    [{ idea: true }, 'body/idea must be string'],
    [{ idea: [IDEA] }, 'body/idea must be string'],
    [{ idea: IDEA, model: null }, 'body/model must be string'],
    [{ idea: IDEA, webhookUrl: null }, 'body/webhookUrl must be string'],
    [{ idea: IDEA, template: null }, 'body/template must be one of "standard", "lean", "technical"'],
  ];
  for (const [payload, message] of cases) {
    const res = await submit(app, payload);
    t.equal(res.statusCode, 400, JSON.stringify(payload));
    t.equal(res.json().message, message, JSON.stringify(payload));
  }
  const history = await app.inject({ url: '/api/history' });
  t.equal(history.json().data.length, 0, 'none of them was stored');
  const waited = await app.inject({ method: 'POST', url: '/api/generate?wait=true', payload: { idea: IDEA } });
  t.equal(waited.json().status, 'completed', 'a query string is still read as its types ("true" is true)');
});

t.test('a value outside a fixed set names the allowed values in one message', async (t) => {
  const app = await build(t);
  const res = await submit(app, { idea: IDEA, template: 'evil' });
  t.equal(res.statusCode, 400);
  t.equal(res.json().message, 'body/template must be one of "standard", "lean", "technical"');
  t.same(
    res.json().details,
    [{ path: 'body/template', message: 'must be one of "standard", "lean", "technical"' }],
    'one detail, not one per allowed value',
  );
  const status = await app.inject({ url: '/api/history?status=done' });
  t.equal(status.statusCode, 400);
  t.match(
    status.json().message,
    /^querystring\/status must be one of "queued", .*"cancelled"$/,
    'every such field, not only template',
  );
});
