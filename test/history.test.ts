import t, { type Test } from 'tap';
import { seedIdeas } from '../scripts/seed.js';
import { build, fakeGemini, isAlive, submit, waitFor } from './helper.js';
import { history, storeIdea, type HistoryPage } from './fixtures/ideas.js';

const IDEAS = 300;

/** Newest first by creation time, ties broken by the higher id. */
function assertNewestFirst(t: Test, items: Array<Record<string, any>>) {
  for (let i = 1; i < items.length; i++) {
    const [a, b] = [items[i - 1], items[i]];
    const ordered = a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id);
    if (!ordered) return t.fail(`item ${i} (${b.id}, ${b.createdAt}) comes after ${a.id}, ${a.createdAt}`);
  }
  t.pass('newest first, ties broken by id');
}

/** A walk through the pages saw each of `ids` once, none that arrived later, newest first. */
function assertWalkedOnce(t: Test, items: Array<Record<string, any>>, ids: number[]) {
  const seen = items.map((d) => d.id);
  t.equal(new Set(seen).size, seen.length, 'no duplicate');
  t.same(
    [...seen].sort((a, b) => a - b),
    ids,
    'no missing idea, and none that arrived later',
  );
  assertNewestFirst(t, items);
}

/** A history of IDEAS ideas, among them a block created in the same millisecond to test the tie break. */
async function historyApp(t: Test) {
  const app = await build(t);
  await seedIdeas(app.dbClient, IDEAS - 30, { seed: 7, days: 30 });
  const tied = Date.now() - 5 * 86_400_000;
  for (let i = 0; i < 30; i++) await storeIdea(app, { idea: `Tied idea ${i}`, createdAt: tied });
  const { rows } = await app.dbClient.execute('SELECT id FROM ideas');
  return { app, ids: rows.map((r) => Number(r.id)).sort((a, b) => a - b) };
}

t.test('pages walk every idea once while new ideas arrive (page + asOf)', async (t) => {
  const { app, ids } = await historyApp(t);
  const items: Array<Record<string, any>> = [];
  let page = await history(app, { limit: 17 });
  const { asOf } = page.pagination;
  t.equal(page.pagination.total, IDEAS);
  t.equal(page.pagination.totalPages, Math.ceil(IDEAS / 17));
  for (let n = 1; ; n++) {
    t.equal(page.pagination.page, n);
    t.equal(page.pagination.hasPrev, n > 1);
    t.equal(page.pagination.total, IDEAS, 'the total stays that of the snapshot');
    items.push(...page.data);
    t.equal((await submit(app, { idea: `A new idea arriving while page ${n} is read` })).statusCode, 202);
    if (!page.pagination.hasNext) break;
    page = await history(app, { limit: 17, page: n + 1, asOf: asOf! });
  }
  assertWalkedOnce(t, items, ids);

  const fresh = await history(app, { limit: 5 });
  t.ok(fresh.pagination.total > IDEAS, 'a new walk sees the new ideas');
  t.ok(fresh.pagination.asOf! > asOf!, 'with a newer snapshot');
});

t.test('a cursor walks every idea once while new ideas arrive', async (t) => {
  const { app, ids } = await historyApp(t);
  const items: Array<Record<string, any>> = [];
  let page = await history(app, { limit: 23 });
  for (let n = 1; ; n++) {
    t.equal(page.pagination.page, n);
    items.push(...page.data);
    await storeIdea(app, { idea: `Arrived during page ${n}` });
    if (!page.pagination.hasNext) break;
    t.type(page.pagination.nextCursor, 'string');
    page = await history(app, { limit: 23, cursor: page.pagination.nextCursor! });
  }
  t.equal(page.pagination.nextCursor, null);
  assertWalkedOnce(t, items, ids);
});

t.test('the status filter, by page and by cursor', async (t) => {
  const { app } = await historyApp(t);
  const { rows } = await app.dbClient.execute(
    "SELECT id FROM ideas WHERE status = 'failed' ORDER BY created_at DESC, id DESC",
  );
  const failed = rows.map((r) => Number(r.id));
  t.ok(failed.length > 3, 'the seed has failed ideas');

  const byPage: number[] = [];
  for (let p = 1; ; p++) {
    const page = await history(app, { status: 'failed', limit: 3, page: p });
    t.equal(page.pagination.total, failed.length);
    byPage.push(...page.data.map((d) => d.id));
    t.ok(page.data.every((d) => d.status === 'failed'));
    if (!page.pagination.hasNext) break;
  }
  t.same(byPage, failed);

  const byCursor: number[] = [];
  let page: HistoryPage = await history(app, { status: 'failed', limit: 3 });
  for (;;) {
    byCursor.push(...page.data.map((d) => d.id));
    if (!page.pagination.nextCursor) break;
    page = await history(app, { status: 'failed', limit: 3, cursor: page.pagination.nextCursor });
  }
  t.same(byCursor, failed);
});

t.test('list items are summaries: a preview, never the spec', async (t) => {
  const app = await build(t);
  const spec = `# Tool library\n\n## Overview\n\n**Neighbours** lend each other \`tools\`. ${'More text. '.repeat(500)}`;
  const idea = `A tool library for neighbours ${'with many details '.repeat(30)}`;
  const row = await storeIdea(app, { idea, spec });
  const [item] = (await history(app, {})).data;
  t.equal(item.id, row.id);
  t.notOk('generatedSpec' in item);
  t.notOk('userInput' in item);
  t.ok(
    item.preview.startsWith('Tool library Overview Neighbours lend each other tools. More text.'),
    'plain text, Markdown removed',
  );
  t.ok(Array.from(item.preview as string).length <= 201);
  t.ok((item.idea as string).endsWith('…') && Array.from(item.idea as string).length <= 201, 'the idea is cut');
  t.equal(item.outputLength, spec.length);
  t.ok(JSON.stringify(item).length < 2000, 'a small item');
});

t.test('query validation: limit, page, status and cursor', async (t) => {
  const app = await build(t);
  for (let i = 0; i < 25; i++) await storeIdea(app, { idea: `Idea ${i}` });
  const first = await history(app, {});
  t.equal(first.data.length, 20, 'limit defaults to 20');
  t.equal(first.pagination.limit, 20);
  t.equal((await history(app, { limit: 100 })).data.length, 25);
  t.same((await history(app, { page: 99 })).data, [], 'a page past the end is empty, not an error');

  const bad: Array<Record<string, string>> = [
    { limit: '0' },
    { limit: '101' },
    { limit: 'ten' },
    { limit: '1.5' },
    { page: '0' },
    { page: '-1' },
    { page: 'x' },
    { status: 'done' },
    { asOf: '-1' },
    { cursor: 'not a cursor!' },
    { cursor: 'eyJ4IjoxfQ' },
    { cursor: Buffer.from('{"k":[1,"x"],"p":1}').toString('base64url') },
    { cursor: Buffer.from('{"k":[1,2],"p":0}').toString('base64url') },
    { cursor: 'x'.repeat(300) },
  ];
  for (const query of bad) {
    const res = await app.inject({ method: 'GET', url: '/api/history', query });
    t.equal(res.statusCode, 400, JSON.stringify(query));
    t.match(res.json(), { statusCode: 400, code: /^(FST_ERR_VALIDATION|INVALID_CURSOR)$/, requestId: String });
  }
  const almostAll = await history(app, { limit: 24 });
  const oldest = (await history(app, { page: 25, limit: 1 })).data[0];
  await app.inject({ method: 'DELETE', url: `/api/history/${oldest.id}` });
  const pastTheEnd = await history(app, { limit: 24, cursor: almostAll.pagination.nextCursor! });
  t.same(
    [pastTheEnd.data, pastTheEnd.pagination.total, pastTheEnd.pagination.hasNext],
    [[], 24, false],
    'a cursor whose ideas were deleted meanwhile',
  );

  const searchCursor = (await history(app, { search: 'idea', limit: 5 })).pagination.nextCursor!;
  const listCursor = first.pagination.nextCursor!;
  t.equal(
    (await app.inject({ url: `/api/history?cursor=${searchCursor}` })).json().code,
    'INVALID_CURSOR',
    'a search cursor without the search',
  );
  t.equal(
    (await app.inject({ url: `/api/history?search=idea&cursor=${listCursor}` })).json().code,
    'INVALID_CURSOR',
    'a list cursor with a search',
  );
});

t.test('stats: totals by status, processing-time average and percentiles, 7 days of counts', async (t) => {
  const app = await build(t);
  const empty = (await app.inject({ url: '/api/history/stats' })).json();
  t.same(empty.processingTime, { count: 0, averageMs: null, p50Ms: null, p95Ms: null });
  t.equal(empty.perDay.length, 7);

  const day = 86_400_000;
  const today = Math.floor(Date.now() / day) * day;
  for (let i = 1; i <= 20; i++)
    await storeIdea(app, { idea: `Completed ${i}`, processingTimeMs: i * 100, createdAt: today });
  await storeIdea(app, { idea: 'Failed', status: 'failed', processingTimeMs: 99_999, createdAt: today - 2 * day });
  await storeIdea(app, { idea: 'Cancelled', status: 'cancelled', processingTimeMs: null, createdAt: today - 6 * day });
  await storeIdea(app, { idea: 'Too old for the chart', createdAt: today - 7 * day });
  const queued = await storeIdea(app, { idea: 'Queued', status: 'queued', createdAt: today - day });

  const stats = (await app.inject({ url: '/api/history/stats' })).json();
  t.equal(stats.total, 24);
  t.same(stats.byStatus, { queued: 1, started: 0, processing: 0, completed: 21, failed: 1, cancelled: 1 });
  // Completed: 100, 200, …, 2000 and one of 1000 (the old one): 21 values.
  t.same(stats.processingTime, { count: 21, averageMs: Math.round((21_000 + 1000) / 21), p50Ms: 1000, p95Ms: 1900 });
  const expected = [1, 0, 0, 0, 1, 1, 20].map((count, d) => ({
    date: new Date(today - (6 - d) * day).toISOString().slice(0, 10),
    count,
  }));
  t.same(stats.perDay, expected);
  t.ok(Date.parse(stats.generatedAt) > 0);

  await app.ideas.update(queued.id, { status: 'completed', processingTimeMs: 5000 });
  await app.inject({ method: 'DELETE', url: `/api/history/${(await history(app, { status: 'failed' })).data[0].id}` });
  const after = (await app.inject({ url: '/api/history/stats' })).json();
  t.same(
    after.byStatus,
    { queued: 0, started: 0, processing: 0, completed: 22, failed: 0, cancelled: 1 },
    'totals follow updates and deletes',
  );
  t.equal(after.processingTime.count, 22);
  t.equal(after.processingTime.p95Ms, 2000);
  t.equal((await history(app, {})).pagination.total, 23);
});

const MALFORMED = [
  'abc',
  '-1',
  '0',
  '00',
  '007',
  '1.5',
  '1e3',
  '0x1F',
  '+1',
  '%201',
  '1%20',
  '%20',
  '1%2F2',
  '..%2F1',
  '１',
  '٣',
  '1,2',
  '[1]',
  '{}',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '1;DROP TABLE ideas',
  '%00',
  '%F0%9F%9A%80',
  '9'.repeat(21),
];
const UNKNOWN = [
  '1',
  '2147483647',
  '2147483648',
  '4294967296',
  '9007199254740991',
  '9007199254740992',
  '9007199254740993',
  '9223372036854775807',
  '9223372036854775808',
  '18446744073709551616',
  '9'.repeat(20),
];

t.test('ids: every malformed shape is a 400, every unknown id a 404, never a 500', async (t) => {
  const app = await build(t);
  const routes = [
    (id: string) => ({ method: 'GET' as const, url: `/api/spec/${id}` }),
    (id: string) => ({ method: 'GET' as const, url: `/api/download/${id}` }),
    (id: string) => ({ method: 'DELETE' as const, url: `/api/history/${id}` }),
  ];
  for (const route of routes) {
    for (const id of MALFORMED) {
      const res = await app.inject(route(id));
      t.equal(res.statusCode, 400, `${route(id).method} ${route(id).url}`);
      t.equal(res.json().code, 'FST_ERR_VALIDATION');
    }
    for (const id of UNKNOWN) {
      const res = await app.inject(route(id));
      t.equal(res.statusCode, 404, `${route(id).method} ${route(id).url}`);
      t.equal(res.json().code, 'IDEA_NOT_FOUND');
    }
  }
  const row = await storeIdea(app, { idea: 'Delete me', spec: '# Spec' });
  t.equal((await app.inject({ method: 'DELETE', url: `/api/history/${row.id}` })).statusCode, 200);
  for (const route of routes)
    t.equal((await app.inject(route(String(row.id)))).statusCode, 404, `${route('').url}: gone after delete`);
});

t.test('deleting an idea whose job is running cancels the job first', async (t) => {
  const fake = fakeGemini(t, 'hang');
  const app = await build(t, { config: fake.config, env: fake.env });
  const { id, jobId } = (await submit(app, { idea: 'An idea whose generator never finishes' })).json();
  const grandchild = await waitFor(() => fake.calls().find((c) => c.grandchild)?.grandchild as number | undefined, {
    what: 'the generator to start',
  });

  const res = await app.inject({ method: 'DELETE', url: `/api/history/${id}` });
  t.equal(res.statusCode, 200);
  t.same(res.json(), { id, jobId, deleted: true, cancelled: true });
  t.equal((await app.inject({ url: `/api/job/${jobId}/status` })).json().status, 'cancelled');
  t.equal((await app.inject({ url: `/api/spec/${id}` })).statusCode, 404);
  await waitFor(() => !isAlive(grandchild), { what: 'the generator process group to be killed' });
  t.pass('the generator process is gone');

  const finished = await storeIdea(app, { idea: 'Finished long ago' });
  t.same((await app.inject({ method: 'DELETE', url: `/api/history/${finished.id}` })).json(), {
    id: finished.id,
    jobId: finished.jobId,
    deleted: true,
    cancelled: false,
  });
  t.equal(
    (await app.inject({ method: 'DELETE', url: `/api/history/${finished.id}` })).statusCode,
    404,
    'deleting twice',
  );
});

t.test('numbers that overflow to Infinity are a 400, not a 500', async (t) => {
  const app = await build(t);
  for (const query of ['limit=1e309', 'page=1e309', 'page=-1e309', 'limit=1e309&page=2']) {
    const res = await app.inject({ url: `/api/history?${query}` });
    t.equal(res.statusCode, 400, query);
    t.match(res.json(), { code: 'FST_ERR_VALIDATION', message: /must be a finite number/ }, query);
  }
});
