import { readFileSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import t, { type Test } from 'tap';
import { SPACELESS_GLOB_CLASS } from '../src/db/search-terms.js';
import { migrationsFolder } from '../src/paths.js';
import { build, fakeGemini, submit, tempDir, waitFor, waitForJob } from './helper.js';
import { history, searchIds, storeIdea } from './fixtures/ideas.js';

const IDEA = '一個幫助獨立書店安排讀書會的應用程式';

t.test('a running job’s partial spec is not searched; the whole spec is once the job ends', async (t) => {
  const chunks = [
    '# 規格\n\n',
    '## 概述\n燈塔看守人 lighthouse 輪班表。\n',
    '## 需求\n',
    '養蜂場 beekeeping 的巡檢記錄。\n',
  ];
  const fake = fakeGemini(t, 'ok', { GEMINI_FAKE_CHUNKS: JSON.stringify(chunks), GEMINI_FAKE_DELAY_MS: '900' });
  const app = await build(t, { config: fake.config, env: fake.env });
  const { jobId, id } = (await submit(app, { idea: IDEA })).json();

  // The job flushes its text to the row about once a second while it runs.
  await waitFor(
    async () => {
      const spec = (await app.inject({ url: `/api/spec/${id}` })).json();
      return spec.status === 'processing' && spec.generatedSpec.includes('燈塔看守人');
    },
    { what: 'the partial spec in the database' },
  );
  t.same(await searchIds(app, '讀書會'), [id], 'the idea is searchable while the job runs');
  for (const term of ['lighthouse', '燈塔看守', '燈塔', '塔'])
    t.same(await searchIds(app, term), [], `the partial spec is not: ${term}`);

  t.equal((await waitForJob(app, jobId)).status, 'completed');
  for (const term of ['lighthouse', '燈塔看守', '燈塔', '塔', 'beekeeping', '養蜂場', '巡檢', '錄'])
    t.same(await searchIds(app, term), [id], `the finished spec is: ${term}`);
  t.same(await searchIds(app, '燈塔', { status: 'completed' }), [id]);
});

t.test(
  'a spec and an idea of 1,000,000 Chinese characters are indexed whole, written as a job writes them',
  async (t) => {
    const app = await build(t);
    const sentence =
      '系统必须让宠物主人在一分钟内完成注册并立即开始寻找附近的遛狗伙伴当用户关注的内容发生变化时会收到通知';
    const text = (tail: string) =>
      sentence.repeat(Math.ceil(1_000_000 / sentence.length)).slice(0, 1_000_000 - tail.length) + tail;
    const spec = text('鸚鵡螺 nautilus 鯨');
    const row = await storeIdea(app, { idea: text('獨角獸'), status: 'processing' });
    // Flushes of a growing text, then the end of the job.
    for (const share of [0.25, 0.5, 0.75])
      await app.ideas.update(row.id, { generatedSpec: spec.slice(0, spec.length * share) });
    t.same(await searchIds(app, '宠物'), [row.id], 'the idea is indexed');
    t.same(await searchIds(app, '獨角'), [row.id], 'to its last characters');
    t.same(await searchIds(app, '獸'), [row.id]);
    await app.ideas.update(row.id, { generatedSpec: spec, status: 'completed', outputLength: spec.length });
    for (const term of ['鸚鵡螺', '鵡螺', '螺', 'nautilus', '鯨', '鸚鵡螺 nautilus'])
      t.same(await searchIds(app, term), [row.id], term);
    const page = (await app.inject({ url: `/api/history?search=${encodeURIComponent('鸚鵡')}` })).json();
    t.match(page.data[0].snippet, /<mark>鸚鵡<\/mark>/, 'with the hit in the snippet');
  },
);

/** A database migrated up to (not including) the migration whose tag starts with `tag`, holding `rows` (idea, spec, status). */
async function databaseBefore(t: Test, tag: string, rows: ReadonlyArray<readonly [string, string, string]>) {
  const dir = tempDir(t);
  const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as {
    entries: Array<{ tag: string }>;
  };
  const upTo = journal.entries.findIndex((e) => e.tag.startsWith(tag));
  t.ok(upTo > 0, `migration ${tag} exists`);
  const previous = join(dir, 'previous-migrations');
  mkdirSync(join(previous, 'meta'), { recursive: true });
  for (const entry of journal.entries.slice(0, upTo))
    copyFileSync(join(migrationsFolder, `${entry.tag}.sql`), join(previous, `${entry.tag}.sql`));
  writeFileSync(
    join(previous, 'meta/_journal.json'),
    JSON.stringify({ ...journal, entries: journal.entries.slice(0, upTo) }),
  );
  const dbFile = join(dir, 'existing.db');
  const client = createClient({ url: `file:${dbFile}` });
  await migrate(drizzle(client), { migrationsFolder: previous });
  const now = Date.now();
  for (const [i, [idea, spec, status]] of rows.entries()) {
    await client.execute({
      sql: `INSERT INTO ideas (job_id, user_input, generated_spec, status, template, generator, attempts, output_length, created_at, updated_at)
            VALUES (?, ?, ?, ?, 'standard', 'offline', 1, ?, ?, ?)`,
      args: [`00000000-0000-4000-8000-00000000000${i}`, idea, spec, status, spec.length, now - i, now - i],
    });
  }
  return { dbFile, client };
}

/** Tokens each row of an FTS5 index holds, per column, from its table of document sizes (varints). */
async function rowSizes(app: Awaited<ReturnType<typeof build>>, table: string): Promise<Map<number, number[]>> {
  const { rows } = await app.dbClient.execute(`SELECT id, sz FROM ${table}_docsize`);
  const sizes = new Map<number, number[]>();
  for (const row of rows) {
    const bytes = new Uint8Array(row.sz as ArrayBuffer);
    const columns: number[] = [];
    for (let i = 0, value = 0; i < bytes.length; i++) {
      value = value * 128 + (bytes[i] & 0x7f);
      if (bytes[i] < 0x80) {
        columns.push(value);
        value = 0;
      }
    }
    sizes.set(Number(row.id), columns);
  }
  return sizes;
}

t.test(
  'a 1,000,000-character Chinese spec is indexed in pieces: no statement indexes more than 40,000 characters of it, and search finds terms in different pieces, once',
  async (t) => {
    const app = await build(t);
    const sentence =
      '系统必须让宠物主人在一分钟内完成注册并立即开始寻找附近的遛狗伙伴当用户关注的内容发生变化时会收到通知';
    const filler = (chars: number) => sentence.repeat(Math.ceil(chars / sentence.length)).slice(0, chars);
    // Terms 40,000 characters apart: never in one piece.
    const spec = `${filler(10_000)}鸚鵡螺${filler(40_000)}nautilus 獨角獸${filler(950_000)}`;
    const big = await storeIdea(app, { idea: '一个帮助宠物主人的应用', spec });
    const small = await storeIdea(app, { idea: '海洋生物图鉴', spec: '鸚鵡螺与独角鲸' });
    const other = await storeIdea(app, { idea: '只有鸚鵡螺的想法', spec: '没有别的' });

    for (const table of ['ideas_fts_trigram', 'ideas_fts_bigram']) {
      const sizes = await rowSizes(app, table);
      const pieces = [...sizes.keys()].filter((rowid) => Math.floor(rowid / 1024) === big.id);
      t.ok(pieces.length >= 25, `${table}: the spec is in ${pieces.length} pieces`);
      // A bigram index row holds about two tokens a character (the character and its pair), a trigram row one.
      const perChar = table === 'ideas_fts_bigram' ? 2 : 1;
      const largest = Math.max(...pieces.map((rowid) => sizes.get(rowid)![1]));
      t.ok(largest <= 40_000 * perChar, `${table}: the largest piece holds ${largest} tokens`);
    }

    for (const term of ['鸚鵡螺 獨角獸', '鸚鵡 nautilus', '鸚鵡螺 nautilus', '螺 獸'])
      t.same(await searchIds(app, term), [big.id], `${term}: found in the spec whose terms are far apart, once`);
    t.same(await searchIds(app, '鸚鵡螺 nautilus', { status: 'completed' }), [big.id]);
    t.same(await searchIds(app, '鸚鵡螺 nautilus', { status: 'failed' }), []);
    t.same(await searchIds(app, '鸚鵡螺 獨角獸 海洋'), [], 'every term must be in the idea');
    for (const term of ['鸚鵡螺', '螺', '鸚鵡螺 nautilus']) {
      const ids = await searchIds(app, term);
      t.equal(new Set(ids).size, ids.length, `${term}: each idea once`);
    }
    const both = await history(app, { search: '鸚鵡螺 nautilus' });
    t.equal(both.pagination.total, 1, 'counted once');
    t.same(
      (await history(app, { search: '鸚鵡螺' })).data.map((d) => d.id).sort(),
      [big.id, small.id, other.id].sort(),
      'a term in one piece of a long spec, and in short ones',
    );
    await app.ideas.update(small.id, { generatedSpec: '鸚鵡螺 獨角獸 nautilus' });
    const ranked = await history(app, { search: '鸚鵡螺 獨角獸' });
    t.same(ranked.data.map((d) => d.id).sort(), [big.id, small.id].sort(), 'a short spec and the long one, each once');
    t.match(ranked.data.find((d) => d.id === big.id)!.snippet, /<mark>鸚鵡螺<\/mark>/, 'with a snippet');

    // The spec shrinks: its pieces beyond the new text go.
    await app.ideas.update(big.id, { generatedSpec: filler(1_000) });
    t.same(await searchIds(app, '獨角獸'), [small.id], 'a term of the old text is gone');
    const left = [...(await rowSizes(app, 'ideas_fts_bigram')).keys()].filter(
      (rowid) => Math.floor(rowid / 1024) === big.id,
    );
    t.equal(left.length, 1, 'one piece left');
    await app.ideas.update(big.id, { generatedSpec: spec });
    const res = await app.inject({ method: 'DELETE', url: `/api/history/${big.id}` });
    t.equal(res.statusCode, 200);
    for (const table of ['ideas_fts_trigram', 'ideas_fts_bigram'])
      t.same(
        [...(await rowSizes(app, table)).keys()].filter((rowid) => Math.floor(rowid / 1024) === big.id),
        [],
        `${table}: a deleted idea leaves no piece`,
      );
  },
);

t.test(
  'a database from before migration 0005 upgrades: running rows lose their partial spec from the index, nothing else changes',
  async (t) => {
    const { dbFile, client } = await databaseBefore(t, '0005', [
      ['A running club for busy parents', '## Overview\nWeekly runs in the park.', 'completed'],
      ['一個幫助家庭分配家務的應用程式', '## 概述\n每週輪換家務。', 'completed'],
      ['A kiln booking tool for 陶藝 studios', '## Overview\nHalf a spec about glazes and 釉料配方', 'processing'],
    ]);
    t.same(
      (
        await client.execute({
          sql: 'SELECT rowid FROM ideas_fts_bigram WHERE ideas_fts_bigram MATCH ?',
          args: ['"釉料"'],
        })
      ).rows.map((r) => r.rowid),
      [3],
      'before: the partial spec is indexed',
    );
    client.close();

    const app = await build(t, { dbFile });
    t.same(await searchIds(app, 'runs'), [1]);
    t.same(await searchIds(app, '家務'), [2]);
    t.same(await searchIds(app, '每週輪換'), [2]);
    t.same(await searchIds(app, 'kiln'), [3], 'a running job’s idea stays searchable');
    t.same(await searchIds(app, '陶藝'), [3]);
    for (const term of ['glazes', '釉料配方', '釉料', '釉'])
      t.same(await searchIds(app, term), [], `its partial spec is not: ${term}`);

    // The running row is an unfinished job, which start-up recovery runs again: it ends first, so that
    // the final spec below is the row's last write (under load its end came after it, and replaced it).
    await waitForJob(app, (await app.ideas.findById(3))!.jobId);
    await app.ideas.update(3, { generatedSpec: '## Overview\nKiln slots and 窯燒 schedules', status: 'completed' });
    for (const term of ['schedules', '窯燒', '窯', 'kiln 窯燒'])
      t.same(await searchIds(app, term), [3], `the final spec is: ${term}`);
    for (const term of ['glazes', '釉料'])
      t.same(await searchIds(app, term), [], `the partial one never comes back: ${term}`);
    await t.resolves(
      app.dbClient.execute("INSERT INTO ideas_fts (ideas_fts) VALUES ('integrity-check')"),
      'the word index is consistent',
    );
  },
);

t.test('rows written around the repository (the seed script, a crash) are indexed at the next start', async (t) => {
  const dbFile = join(tempDir(t), 'raw.db');
  const first = await build(t, { dbFile });
  await first.dbClient.execute({
    sql: `INSERT INTO ideas (job_id, user_input, generated_spec, status, template, generator, attempts, output_length, created_at, updated_at)
          VALUES ('00000000-0000-4000-8000-000000000001', '一個關於潮汐發電的想法', '', 'completed', 'standard', 'offline', 1, 0, 1, 1)`,
  });
  await first.close();
  const second = await build(t, { dbFile });
  t.same(await searchIds(second, '潮汐'), [1]);
  t.same(await searchIds(second, '汐'), [1]);
});

t.test('migrations 0005 and 0007 filter rows by the same script class as the query parser', async (t) => {
  for (const [file, count, what] of [
    [
      '0005_index_final_text.sql',
      7,
      'the upgrade of running rows and of the bigram index, and insert and update for the idea and the spec',
    ],
    ['0007_index_in_pieces.sql', 2, 'the rows queued for indexing in pieces: by the idea or the final spec'],
  ] as const) {
    const sql = readFileSync(join(migrationsFolder, file), 'utf8');
    const classes = [...sql.matchAll(/GLOB '\*(\[[^\]]+\])\*'/g)].map((m) => m[1]);
    t.equal(classes.length, count, `${file}: ${what}`);
    for (const glob of classes) t.equal(glob, SPACELESS_GLOB_CLASS);
  }
});

t.test('a database from before migration 0007 upgrades: its rows are indexed again, in pieces', async (t) => {
  const { dbFile, client } = await databaseBefore(t, '0007', [
    ['A running club for busy parents', '## Overview\nWeekly runs in the park.', 'completed'],
    ['一個幫助家庭分配家務的應用程式', `## 概述\n每週輪換家務。${'輪值表'.repeat(30_000)}洗碗機`, 'completed'],
    ['A kiln booking tool for 陶藝 studios', '## Overview\nHalf a spec about 釉料配方', 'processing'],
  ]);
  client.close();

  const app = await build(t, { dbFile });
  t.same(await searchIds(app, 'runs'), [1]);
  for (const term of ['家務', '每週輪換', '洗碗機', '家務 洗碗機', '每週輪換 洗碗機', '洗碗機 application'])
    t.same(await searchIds(app, term), term.includes('application') ? [] : [2], term);
  t.same(await searchIds(app, '陶藝'), [3]);
  t.same(await searchIds(app, '釉料'), [], 'a running job’s partial spec is still not searched');
  for (const table of ['ideas_fts_trigram', 'ideas_fts_bigram']) {
    const { rows: pieces } = await app.dbClient.execute(`SELECT id FROM ${table}_docsize ORDER BY id`);
    const ids = pieces.map((r) => Number(r.id));
    const ofIdea = (id: number) => ids.filter((rowid) => Math.floor(rowid / 1024) === id);
    t.same(ofIdea(1), [], `${table}: not the English idea`);
    t.ok(ofIdea(2).length > 1, `${table}: the long spec in ${ofIdea(2).length} pieces`);
    t.same(
      ofIdea(2),
      Array.from({ length: ofIdea(2).length }, (_, k) => 2048 + k),
      'numbered from id * 1024',
    );
    t.same(ofIdea(3), [3072], `${table}: the running job's idea in one`);
    t.equal(ids.length, ofIdea(2).length + 1, 'and nothing else');
  }
});

t.test(
  'a query that mixes scripts finds the ideas that mix them, also where no space parts a word from Chinese text',
  async (t) => {
    const app = await build(t);
    const glued = await storeIdea(app, { idea: '一个iOS应用，帮助用户管理API密钥' });
    const spaced = await storeIdea(app, { idea: 'An iOS app for sharing 家務 fairly' });
    const android = await storeIdea(app, { idea: '一个 Android 应用，帮助用户记账' });
    await storeIdea(app, { idea: 'A plain English iOS app for invoices' });
    const spec = await storeIdea(app, {
      idea: '一個記帳工具',
      spec: '## Overview\nIntegrates the Stripe API for 付款流程 and refunds.',
    });
    const failed = await storeIdea(app, { idea: '一个iOS应用，用于预约理发', status: 'failed' });

    const cases: Array<[string, number[]]> = [
      ['iOS 应用', [failed.id, glued.id]],
      ['ios 用户', [glued.id]],
      ['管理API', [glued.id]],
      ['iOS 家務', [spaced.id]],
      ['apps 家', [spaced.id]],
      ['Android 用户 应用', [android.id]],
      ['Stripe 記帳', [spec.id]],
      ['refund 付款流程', [spec.id]],
      ['API 付款', [spec.id]],
      ['iOS 付款', []],
      ['invoices 记账', []],
    ];
    for (const [query, ids] of cases)
      t.same(
        (await searchIds(app, query)).sort((a, b) => a - b),
        ids.sort((a, b) => a - b),
        query,
      );
    t.same(await searchIds(app, 'iOS 应用', { status: 'failed' }), [failed.id], 'the status filter applies');
    t.same(await searchIds(app, 'completed 应用'), [], 'a word is never matched against the status');
    const page = (await app.inject({ url: `/api/history?search=${encodeURIComponent('Stripe 付款流程')}` })).json();
    t.match(
      page.data[0].snippet,
      /<mark>Stripe<\/mark>.*<mark>付款流程<\/mark>/,
      'both hits are marked in the snippet',
    );
  },
);

t.test(
  'stored text holding the highlighter’s marker characters gives a snippet with only the hits marked',
  async (t) => {
    const app = await build(t);
    const word = await storeIdea(app, {
      idea: 'Quokka \u0003tours\u0002 for \u0002\u0002families\u0003',
      spec: '## Overview\n\u0003\u0003Quokka\u0002 boats and \u0002quokka\u0003 walks',
    });
    const run = await storeIdea(app, { idea: '\u0003一個分配家務\u0002的應用\u0002程式' });
    const balanced = (html: string) => {
      let depth = 0;
      for (const tag of html.match(/<\/?mark>/g) ?? []) {
        depth += tag === '<mark>' ? 1 : -1;
        if (depth < 0 || depth > 1) return false;
      }
      return depth === 0;
    };
    for (const [query, id, hit] of [
      ['quokka', word.id, /<mark>Quokka<\/mark> boats and <mark>quokka<\/mark> walks/],
      ['families', word.id, /for <mark>families<\/mark>/],
      ['家務', run.id, /分配<mark>家務<\/mark>的應用程式/],
      ['的應用', run.id, /家務<mark>的應用<\/mark>程式/],
    ] as const) {
      const [item] = (await history(app, { search: query })).data;
      t.equal(item.id, id, query);
      t.ok(balanced(item.snippet), `${query}: every <mark> is closed, none nested: ${item.snippet}`);
      t.match(item.snippet, hit, `${query}: the hits are marked`);
      t.notMatch(item.snippet, /[\u0002\u0003]/, `${query}: no marker character is left`);
    }
  },
);

t.test(
  'a run or a mix found in most of the newest ideas written in its script is listed newest first, however many ideas are in other scripts',
  async (t) => {
    const app = await build(t, { config: { SEARCH_RANK_WINDOW: 100 } });
    const start = Date.now() - 1_000_000;
    const chinese: number[] = [];
    for (let i = 0; i < 450; i++) {
      // One idea in three is Chinese, every one of them about 家務 and an API.
      const row = await storeIdea(app, {
        idea: i % 3 === 0 ? `Garden club ${i}：用 API 分配家務` : `An English idea about gardens, number ${i}`,
        createdAt: start + i * 1000,
      });
      if (i % 3 === 0) chinese.push(row.id);
    }
    for (const search of ['家務', '分配家務', 'API 家務']) {
      const page = await history(app, { search, limit: 100 });
      t.same(
        [page.search?.ranked, page.search?.capped],
        [false, true],
        `${search}: a full window of a term in every Chinese idea is not ranked`,
      );
      t.same(
        page.data.map((d) => d.id),
        chinese.slice(-100).reverse(),
        `${search}: the 100 newest matches, newest first`,
      );
    }
  },
);
