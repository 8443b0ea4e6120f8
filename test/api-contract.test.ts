import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import t from 'tap';
import { build, tempDir } from './helper.js';

const run = promisify(execFile);
const KEY = 'contract-test-key-0123456789';
const bin = (name: string) => join(process.cwd(), 'node_modules', '.bin', name);
/** Redocly never phones home from a test: no telemetry, no update check, and a config file so none is looked up. */
const OFFLINE = {
  ...process.env,
  REDOCLY_TELEMETRY: 'off',
  REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
  NO_UPDATE_NOTIFIER: '1',
};

type Doc = {
  paths: Record<
    string,
    Record<string, { operationId?: string; tags?: string[]; requestBody?: any; responses: Record<string, any> }>
  >;
  [key: string]: any;
};

async function load(config: object, host?: string) {
  const app = await build(t, { config });
  const doc = (await app.inject({ url: '/api/docs/json', headers: host ? { host } : {} })).json() as Doc;
  return { app, doc };
}

function operations(doc: Doc) {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, op]) => ({ path, method, ...op })),
  );
}

t.test('Redocly (recommended rules) finds no error in the document, with and without API_KEY', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'redocly.yaml'), 'extends:\n  - recommended\n');
  for (const [label, config] of [
    ['open', {}],
    ['API_KEY', { API_KEY: KEY }],
  ] as const) {
    const { doc } = await load(config);
    const file = join(dir, `openapi-${label.toLowerCase()}.json`);
    writeFileSync(file, JSON.stringify(doc));
    const { stdout } = await run(
      bin('redocly'),
      ['lint', file, '--format=json', '--config', join(dir, 'redocly.yaml')],
      { env: OFFLINE, cwd: dir, maxBuffer: 16 * 1024 * 1024 },
    ).catch((err: { stdout: string }) => err);
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as {
      totals: { errors: number };
      problems: Array<{ ruleId: string; severity: string; message: string }>;
    };
    t.equal(
      report.totals.errors,
      0,
      `${label}: 0 errors (${report.problems
        .filter((p) => p.severity === 'error')
        .map((p) => `${p.ruleId}: ${p.message}`)
        .join('; ')})`,
    );
    t.notOk(
      report.problems.some((p) =>
        ['operation-operationId', 'operation-operationId-unique', 'no-unused-components', 'struct'].includes(p.ruleId),
      ),
      `${label}: no missing ids, unused components or structural problems`,
    );
  }
});

t.test(
  'every operation has a tag and a unique operationId following the naming rule; v1 is the documented version',
  async (t) => {
    const { doc } = await load({});
    t.equal(doc.openapi, '3.1.0');
    const ops = operations(doc);
    t.ok(ops.length >= 30);
    const rule = /^(get|list|submit|cancel|delete|download|stream|subscribe)[A-Z][A-Za-z]*$/;
    for (const op of ops) {
      t.match(op.operationId, rule, `${op.method.toUpperCase()} ${op.path}: ${op.operationId}`);
      t.ok(op.tags?.length, `${op.operationId} has a tag`);
      t.ok(
        doc.tags.some((tag: { name: string }) => op.tags?.includes(tag.name)),
        `${op.operationId}'s tag is declared`,
      );
    }
    t.equal(new Set(ops.map((op) => op.operationId)).size, ops.length, 'operationIds are unique');
    for (const op of ops.filter((o) => o.path.startsWith('/api/') && !o.path.startsWith('/api/v1/'))) {
      const versioned = doc.paths[op.path.replace('/api/', '/api/v1/')]?.[op.method];
      t.ok(versioned, `${op.path} is an alias of a versioned path`);
      t.equal(op.operationId, `${versioned?.operationId}Unversioned`);
    }
    t.equal(doc.paths['/api/v1/generate'].post.operationId, 'submitIdea');
    t.equal(doc.paths['/api/v1/job/{jobId}/events'].get.operationId, 'streamJobEvents');
    t.match(doc.info.description, /Version v1/);
    t.ok(doc.webhooks.jobEnded.post, 'the webhook is documented');
  },
);

t.test('servers name PUBLIC_URL, or else the origin the request came to; core routes carry examples', async (t) => {
  const { doc: behindProxy } = await load({ PUBLIC_URL: 'https://idea2spec.example.org' });
  t.same(behindProxy.servers, [{ url: 'https://idea2spec.example.org' }]);
  t.equal(
    behindProxy.externalDocs.url,
    'https://idea2spec.example.org/api/docs/asyncapi.json',
    'the AsyncAPI document is linked',
  );
  const { doc: direct } = await load({}, 'api.internal:8080');
  t.same(direct.servers, [{ url: 'http://api.internal:8080' }]);

  const generate = direct.paths['/api/v1/generate'].post;
  t.ok(generate.requestBody.content['application/json'].example.idea, 'POST /generate: request example');
  t.equal(generate.responses['202'].content['application/json'].example.status, 'queued', 'and response example');
  for (const [path, method, status] of [
    ['/api/v1/job/{jobId}/status', 'get', '200'],
    ['/api/v1/spec/{id}', 'get', '200'],
    ['/api/v1/history', 'get', '200'],
    ['/api/v1/job/{jobId}/events', 'get', '200'],
  ] as const) {
    const content = direct.paths[path][method].responses[status].content;
    t.ok(
      Object.values(content).some((media: any) => media.example !== undefined),
      `${path}: response example`,
    );
  }
});

t.test(
  'TypeScript types generated from the served document type-check a small client, and catch a wrong one',
  async (t) => {
    const { doc } = await load({ API_KEY: KEY });
    const dir = tempDir(t);
    writeFileSync(join(dir, 'api.ts'), astToString(await openapiTS(doc as never)));
    writeFileSync(
      join(dir, 'client.ts'),
      `import type { paths, components, operations } from './api.js';
type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
export type SubmitBody = Json<NonNullable<paths['/api/v1/generate']['post']['requestBody']>>;
export type Accepted = Json<paths['/api/v1/generate']['post']['responses'][202]>;
export type Snapshot = Json<operations['getJobStatus']['responses'][200]>;
export type Idea = Json<operations['getSpec']['responses'][200]>;
export type History = Json<operations['listHistory']['responses'][200]>;
export type JobEvent = components['schemas']['JobEvent'];

export async function submitIdea(base: string, key: string, body: SubmitBody): Promise<Accepted> {
  const res = await fetch(base + '/api/v1/generate', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + key }, body: JSON.stringify(body) });
  return (await res.json()) as Accepted;
}
export const body: SubmitBody = { idea: 'A recipe planner', template: 'standard', webhookUrl: 'https://hooks.example.com/x' };
export const follow = (a: Accepted): string[] => [a.jobId, a.statusUrl, a.eventsUrl, a.websocketUrl];
export const textOf = (s: Snapshot): string => (s.status === 'completed' ? s.text : s.message + s.progress.chars);
export const delivery = (i: Idea): string | undefined => (i.webhook?.status === 'delivered' ? i.webhook.deliveredAt : i.error?.code);
export const count = (h: History): number => h.pagination.total + h.data.length + (h.pagination.nextCursor ?? '').length;
export const appended = (e: JobEvent): string => (e.type === 'job-update' ? (e.delta ?? '') + e.seq : '');
`,
    );
    writeFileSync(
      join(dir, 'wrong.ts'),
      `import type { Snapshot, SubmitBody } from './client.js';
export const body: SubmitBody = { idea: 'A recipe planner', colour: 'red' };
export const done = (s: Snapshot): boolean => s.status === 'finished';
`,
    );
    const tsc = (file: string) =>
      run(
        process.execPath,
        [
          join(process.cwd(), 'node_modules/typescript/bin/tsc'),
          '--noEmit',
          '--strict',
          '--target',
          'es2022',
          '--module',
          'nodenext',
          '--moduleResolution',
          'nodenext',
          '--lib',
          'es2022,dom',
          file,
        ],
        { cwd: dir },
      );
    const ok = await tsc('client.ts').then(
      () => ({ stdout: '', code: 0 }),
      (err: { stdout: string; code: number }) => err,
    );
    t.equal(ok.code, 0, `the client type-checks against the generated types ${ok.stdout}`);
    const wrong = await tsc('wrong.ts').then(
      () => ({ stdout: '', code: 0 }),
      (err: { stdout: string; code: number }) => err,
    );
    t.not(wrong.code, 0, 'a client using fields the API does not have fails');
    t.match(wrong.stdout, /colour/);
    t.match(wrong.stdout, /finished/);
  },
);
