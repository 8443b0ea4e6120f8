import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { build, submit, waitForJob } from './helper.js';

// Property: whatever a client sends to whichever route — params, query, headers,
// body — the answer is never a 5xx, and the service still answers afterwards.
// Routes come from the OpenAPI document, so routes added later are fuzzed too.

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

const nasty = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  '1e309',
  '-1',
  '0',
  '9'.repeat(400),
  '18446744073709551616',
  'NaN',
  'Infinity',
  '0x10',
  ' 1',
  '%00',
  '%ff%fe',
  '%c3%28',
  '%E0%80%80',
  '%',
  '..%2f..%2fetc%2fpasswd',
  '00000000-0000-4000-8000-000000000000',
  '\u202e\u0000',
  '🙂'.repeat(50),
);
/** Path and query text: mostly percent-encoded, sometimes raw invalid escapes. */
const urlText = fc.oneof(
  nasty,
  fc.string().map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 40 }).map(encodeURIComponent),
);
const key = fc.oneof(
  nasty,
  fc.constantFrom('wait', 'page', 'limit', 'search', 'status', 'cursor', 'afterSeq', 'idea', 'template', 'model'),
  fc.string({ maxLength: 12 }),
);

const hugeNumber = fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -0, 5e-324);
const jsonLeaf = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.integer(),
  fc.double({ noNaN: true }),
  hugeNumber,
  fc.boolean(),
  fc.constant(null),
);
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small' },
    jsonLeaf,
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.dictionary(key, tie('tree'), { maxKeys: 5 }),
  ),
}));
const validish = fc.record(
  {
    idea: fc.oneof(fc.string(), fc.string({ unit: 'grapheme', minLength: 10, maxLength: 200 }), tree),
    template: fc.oneof(fc.constantFrom('standard', 'lean', '--yolo'), tree),
    model: fc.oneof(fc.constantFrom('--yolo', '--approval-mode=yolo', 'gemini-2.5-flash', '-m'), tree),
  },
  { requiredKeys: [] },
);
const deep = fc.integer({ min: 100, max: 5000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`);
const deepObject = fc.integer({ min: 100, max: 3000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`);

/** Bodies as raw bytes, with JSON text that JSON.stringify would never produce. */
const body = fc.oneof(
  validish.map((v) => JSON.stringify(v)),
  tree.map((v) => JSON.stringify(v) ?? 'null'),
  validish.map((v) =>
    JSON.stringify(v).replace(/^\{/, '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},'),
  ),
  fc.constantFrom(
    '{"idea":1e999}',
    '{"idea":123456789012345678901234567890}',
    '{"idea":"x","idea":"A duplicate key idea text"}',
    '{',
    '',
    'null',
    '"str"',
    '[]',
  ),
  deep,
  deepObject,
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc
    .string({ unit: 'binary' })
    .map((s) =>
      Buffer.concat([
        Buffer.from('{"idea":"'),
        Buffer.from(s),
        Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
        Buffer.from('"}'),
      ]),
    ),
);
const headerValue = fc.oneof(
  nasty,
  fc.string({ maxLength: 300 }).filter((s) => /^[\t\x20-\x7e]*$/.test(s)),
);
const headers = fc.record(
  {
    'content-type': fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=latin1',
      'application/octet-stream',
    ),
    'idempotency-key': headerValue,
    'x-request-id': headerValue,
    authorization: headerValue,
    origin: fc.constantFrom('http://evil.example', 'null', 'http://localhost:5173'),
    accept: fc.constantFrom('*/*', 'text/html', 'application/xml'),
  },
  { requiredKeys: [] },
);
const request = fc.record({
  segments: fc.array(urlText, { minLength: 1, maxLength: 3 }),
  query: fc.array(fc.tuple(key, urlText), { maxLength: 4 }),
  headers,
  body: fc.option(body, { nil: undefined }),
});

interface Route {
  method: string;
  path: string;
  /** The route documents a 503 that is a report (health), not an error. */
  reports503: boolean;
}

async function routesFromOpenApi(app: FastifyInstance): Promise<Route[]> {
  const doc = (await app.inject({ method: 'GET', url: '/api/docs/json' })).json();
  return Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([m]) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
      .map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        reports503: reportsUnavailability(operation),
      })),
  );
}

/** Health routes answer 503 by design when something is down; their 503 carries a report, not an error. */
function reportsUnavailability(operation: unknown): boolean {
  const response = (
    operation as { responses?: Record<string, { content?: Record<string, { schema?: { required?: string[] } }> }> }
  ).responses?.['503'];
  const required = response?.content?.['application/json']?.schema?.required ?? [];
  return response !== undefined && !required.includes('requestId');
}

function fill(path: string, segments: string[]): string {
  let i = 0;
  return path.replace(/\{[^}]+\}/g, () => segments[i++ % segments.length]);
}

t.test('no route answers 5xx to hostile input, and the service still works afterwards', async (t) => {
  const app = await build(t, { config: { JOB_QUEUE_LIMIT: 100_000, JOB_CONCURRENCY: 4 } });
  // /api/v1/x is the same route as /api/x (same options, schemas and handler, see src/plugins/api-version.ts): fuzzed once, as /api/x.
  const routes = (await routesFromOpenApi(app)).filter(
    (r) => !r.path.startsWith('/api/docs') && !r.path.startsWith('/api/v1/'),
  );
  t.ok(
    routes.some((r) => r.path === '/api/generate' && r.method === 'POST'),
    'the routes were found',
  );

  for (const route of routes) {
    await fc.assert(
      fc.asyncProperty(request, async ({ segments, query, headers, body }) => {
        const search = query.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&');
        const url = `${fill(route.path, segments)}${search ? `?${search}` : ''}`;
        const res = await app.inject({
          method: route.method as 'GET',
          url,
          headers,
          ...(body !== undefined && route.method !== 'GET' ? { payload: body } : {}),
        });
        if (res.statusCode >= 500 && !(res.statusCode === 503 && route.reports503))
          throw new Error(`${route.method} ${url} -> ${res.statusCode} ${res.body.slice(0, 300)}`);
        if (
          res.statusCode >= 400 &&
          !(res.statusCode === 503 && route.reports503) &&
          String(res.headers['content-type']).includes('json')
        ) {
          const err = res.json();
          if (typeof err.code !== 'string' || typeof err.requestId !== 'string')
            throw new Error(`${route.method} ${url}: not the error shape: ${res.body.slice(0, 200)}`);
        }
        if (({} as Record<string, unknown>).polluted !== undefined) throw new Error('Object.prototype was polluted');
      }),
      { numRuns: RUNS },
    );
    t.pass(`${route.method} ${route.path}`);
  }

  t.equal((await app.inject({ method: 'GET', url: '/api/docs/json' })).statusCode, 200, 'the service still answers');
  const res = await submit(app, { idea: 'A recipe planner that builds a shopping list' });
  t.equal(res.statusCode, 202);
  t.equal((await waitForJob(app, res.json().jobId)).status, 'completed');
});

t.test('argv injection through model or template is a 400 and never reaches a job', async (t) => {
  const app = await build(t);
  for (const model of [
    '--yolo',
    '--approval-mode=yolo',
    '-y',
    '-m',
    'gemini --yolo',
    'a b',
    'model;rm -rf /',
    `m${'x'.repeat(64)}`,
    '',
  ]) {
    const res = await submit(app, { idea: 'A recipe planner that builds a shopping list', model });
    t.equal(res.statusCode, 400, `model ${JSON.stringify(model)}`);
    t.equal(res.json().code, 'FST_ERR_VALIDATION');
  }
  for (const template of ['--yolo', '../../etc/passwd', 'Standard']) {
    t.equal(
      (await submit(app, { idea: 'A recipe planner that builds a shopping list', template })).statusCode,
      400,
      `template ${template}`,
    );
  }
});
