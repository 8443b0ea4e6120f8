import t from 'tap';
import { build } from './helper.js';
import { history, searchIds, storeIdea } from './fixtures/ideas.js';

const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b);

t.test('English: word forms, case and accents; every word must match', async (t) => {
  const app = await build(t);
  const running = await storeIdea(app, {
    idea: 'A running club for busy parents',
    spec: '## Overview\nMembers meet twice a week.',
  });
  const run = await storeIdea(app, { idea: 'Plan a charity run through the old town', spec: '' });
  const cafe = await storeIdea(app, { idea: 'A map of every Café in Zürich with opening hours' });
  const spec = await storeIdea(app, {
    idea: 'Neighbours lend each other tools',
    spec: '## Requirements\nBorrowers must return tools within seven days.',
  });

  t.same(sorted(await searchIds(app, 'running')), sorted([running.id, run.id]), '"running" finds "run"');
  t.same(sorted(await searchIds(app, 'run')), sorted([running.id, run.id]), '"run" finds "running"');
  t.same(sorted(await searchIds(app, 'RUNS')), sorted([running.id, run.id]));
  t.same(await searchIds(app, 'cafe zurich'), [cafe.id], 'accents and case do not matter');
  t.same(await searchIds(app, 'returned'), [spec.id], 'the spec is searched too');
  t.same(await searchIds(app, 'running zurich'), [], 'all words must match');
});

t.test('Chinese, Japanese, Korean and Thai: substrings of any length, two-character queries included', async (t) => {
  const app = await build(t);
  const traditional = await storeIdea(app, { idea: '一個幫助家庭分配家務的應用程式，家長可以設定每週任務。' });
  const atTheEnd = await storeIdea(app, { idea: '我想要一個公平分配家務' });
  const simplified = await storeIdea(app, { idea: '一个帮助家庭分配家务的应用' });
  const englishWithChineseSpec = await storeIdea(app, {
    idea: 'A chore-sharing app for families',
    spec: '## 概述\n家務分配，每週輪換。',
  });
  const japanese = await storeIdea(app, { idea: '近所の犬の飼い主が散歩仲間を見つけられるアプリ' });
  const korean = await storeIdea(app, { idea: '가족이 집안일을 공평하게 나누는 앱' });
  const thai = await storeIdea(app, { idea: 'แอปสำหรับแบ่งงานบ้านในครอบครัว' });

  t.same(
    sorted(await searchIds(app, '家務')),
    sorted([traditional.id, atTheEnd.id, englishWithChineseSpec.id]),
    'two characters, also at the very end of the text',
  );
  t.same(sorted(await searchIds(app, '分配家務')), sorted([traditional.id, atTheEnd.id]));
  t.same(
    sorted(await searchIds(app, '家')),
    sorted([traditional.id, atTheEnd.id, simplified.id, englishWithChineseSpec.id]),
    'one character',
  );
  t.same(
    await searchIds(app, '家务'),
    [simplified.id],
    'simplified and traditional characters are different characters',
  );
  t.same(await searchIds(app, '家務 app'), [englishWithChineseSpec.id], 'Chinese and English terms together');
  t.same(
    await searchIds(app, 'chore 家務分配 概述'),
    [englishWithChineseSpec.id],
    'a word, a long and a short run: three indexes at once',
  );
  t.same(
    sorted(await searchIds(app, '「家務」，')),
    sorted([traditional.id, atTheEnd.id, englishWithChineseSpec.id]),
    'punctuation around a term is ignored',
  );
  t.same(await searchIds(app, '散歩仲間'), [japanese.id]);
  t.same(await searchIds(app, 'アプリ'), [japanese.id]);
  t.same(await searchIds(app, '犬'), [japanese.id]);
  t.same(await searchIds(app, '집안일'), [korean.id], 'Korean inside a word with a particle attached');
  t.same(await searchIds(app, '가족'), [korean.id]);
  t.same(await searchIds(app, 'งานบ้าน'), [thai.id]);
  t.same(await searchIds(app, '家務的時間'), [], 'a longer substring that is not there');
});

t.test('results are ranked, with a highlighted snippet that is safe HTML', async (t) => {
  const app = await build(t);
  const strong = await storeIdea(app, {
    idea: 'Quokka sanctuary: adopt a quokka, visit the quokka island',
    createdAt: Date.now() - 60_000,
  });
  const weak = await storeIdea(app, {
    idea: 'A travel planner for Western Australia',
    spec: `## Overview\n${'Beaches and national parks. '.repeat(40)}Some visitors ask about the quokka.`,
  });
  const html = await storeIdea(app, { idea: 'Say <b>hello</b> & "bye" to quokka fans' });

  const page = await history(app, { search: 'quokka' });
  t.same(
    page.data.map((d) => d.id),
    [strong.id, html.id, weak.id],
    'a hit in the idea, many times, beats a hit deep in a long spec; relevance beats recency',
  );
  t.match(page.data[0].snippet, /<mark>Quokka<\/mark>/);
  t.match(page.data[2].snippet, /<mark>quokka<\/mark>/);
  t.ok(page.data[2].snippet.startsWith('…') && page.data[2].snippet.length < 300, 'the snippet is cut around the hit');
  t.match(page.data[1].snippet, 'Say &lt;b&gt;hello&lt;/b&gt; &amp; &quot;bye&quot; to <mark>quokka</mark> fans');
  t.same(page.search, { query: 'quokka', ranked: true, window: 1000, capped: false });
  for (const item of page.data) t.notOk('generatedSpec' in item, 'a list never carries the spec');

  const chinese = await storeIdea(app, { idea: '一個幫助家庭分配<家務>的應用程式' });
  const [hit] = (await history(app, { search: '家務' })).data;
  t.equal(hit.id, chinese.id);
  t.match(hit.snippet, '分配&lt;<mark>家務</mark>&gt;的應用程式');
});

const HOSTILE = [
  `O'Brien`,
  `"`,
  `""`,
  `"unbalanced`,
  `'`,
  `''`,
  `AND (`,
  `OR`,
  `NOT app`,
  `app AND`,
  `NEAR(app club, 2)`,
  `NEAR`,
  `*`,
  `app*`,
  `*app`,
  `-`,
  `-app`,
  `--`,
  `+app`,
  `^app`,
  `(`,
  `)`,
  `((app))`,
  `{user_input}: app`,
  `{user_input generated_spec}:(app)`,
  `user_input:app`,
  `status:completed`,
  `a:b:c`,
  `:`,
  `\\`,
  `%`,
  `_`,
  `%_%`,
  `';DROP TABLE ideas;--`,
  `1=1 OR 1=1`,
  `🚀`,
  `👩🏽‍💻 app`,
  `\u0000`,
  `app\u0000club`,
  `\u200b`,
  `\u202e`,
  `..`,
  `&&`,
  `||`,
  `[x](y)`,
  `<script>alert(1)</script>`,
  `${'a'.repeat(500)}`,
  `${'家'.repeat(250)}`,
  Array.from({ length: 60 }, (_, i) => `w${i}`).join(' '),
  `ＡＮＤ　（`,
  `مرحبا`,
  `\uD800`,
  `app\r\nclub`,
  `\ttab`,
  `create app`,
];

t.test(
  `any text is a valid query: ${HOSTILE.length} hostile strings answer 200 and never reach FTS5 as syntax`,
  async (t) => {
    const app = await build(t);
    const obrien = await storeIdea(app, { idea: `O'Brien's bakery wants a pre-order app` });
    const createApp = await storeIdea(app, { idea: 'Create an app where neighbours swap books' });
    const operators = await storeIdea(app, { idea: 'A logic puzzle app: AND, OR, NOT and NEAR gates for kids' });

    for (const search of HOSTILE) {
      const res = await app.inject({ method: 'GET', url: '/api/history', query: { search, limit: '100' } });
      t.equal(res.statusCode, 200, JSON.stringify(search));
      const body = res.json();
      t.ok(
        Array.isArray(body.data) && typeof body.pagination.total === 'number',
        `${JSON.stringify(search)} has the list shape`,
      );
    }
    t.same(await searchIds(app, `O'Brien`), [obrien.id], 'an apostrophe is part of the text');
    t.same(await searchIds(app, 'create app'), [createApp.id], 'two plain words');
    t.same(
      sorted(await searchIds(app, 'app*')),
      sorted([obrien.id, createApp.id, operators.id]),
      '* is not a prefix operator',
    );
    t.same(await searchIds(app, 'NOT NEAR'), [operators.id], 'operator words are searched as words');
    t.same(await searchIds(app, 'status:completed'), [], 'no column filter can be injected');
    t.same(await searchIds(app, '🚀'), [], 'nothing searchable: no results, not everything');

    const tooLong = await app.inject({ method: 'GET', url: '/api/history', query: { search: 'a'.repeat(501) } });
    t.equal(tooLong.statusCode, 400);
    t.equal(tooLong.json().code, 'FST_ERR_VALIDATION');
  },
);

t.test('snippets: word forms and phrases are marked as search matched them, where the terms meet', async (t) => {
  const app = await build(t);
  await storeIdea(app, {
    idea: 'Neighbours lend each other tools',
    spec: '## Requirements\nBorrowers must return tools within seven days.',
  });
  await storeIdea(app, { idea: `O'Brien's bakery: send an E-mail when bread is ready; e and mail alone are not it` });
  await storeIdea(app, {
    idea: 'A pet app',
    spec: `Dogs first. ${'Filler words for the spec. '.repeat(8)}Dog walking partners nearby.`,
  });
  await storeIdea(app, { idea: 'Ümlaut Café for cyclists in Zürich' });

  const snippetFor = async (search: string) => (await history(app, { search })).data.map((d) => d.snippet as string);
  t.same(await snippetFor('returned'), ['## Requirements Borrowers must <mark>return</mark> tools within seven days.']);
  t.same(await snippetFor('LENDING'), ['Neighbours <mark>lend</mark> each other tools'], 'the stem, in any case');
  const [phrase] = await snippetFor('e-mail');
  t.match(phrase, 'send an <mark>E-mail</mark> when', 'a word of several tokens is one phrase');
  t.notMatch(phrase, '<mark>e</mark>', 'its tokens are not marked apart');
  t.match((await snippetFor(`o'brien`))[0], '<mark>O&#39;Brien</mark>&#39;s bakery');
  const [met] = await snippetFor('dog walking');
  t.match(met, '<mark>Dog</mark> <mark>walking</mark> partners', 'the window where both words are');
  t.ok(met.startsWith('…'), met);
  t.same(await snippetFor('cafe zurich'), ['Ümlaut <mark>Café</mark> for cyclists in <mark>Zürich</mark>'], 'accents');
});

t.test(
  'snippets cost one pass over the text, however often the word is in it (100 ideas of one word 1,250 times)',
  async (t) => {
    const app = await build(t);
    for (let i = 0; i < 100; i++) await storeIdea(app, { idea: 'api '.repeat(1250).trim(), spec: 'api '.repeat(5000) });
    const page = await history(app, { search: 'API', limit: 100 });
    t.equal(page.data.length, 100);
    for (const { snippet } of page.data) {
      t.ok((snippet as string).startsWith('<mark>api</mark> <mark>api</mark>'), 'from the start of the spec');
      t.ok((snippet as string).endsWith('…'), 'cut');
      t.ok((snippet as string).length < 600, 'a snippet, not the text');
    }
  },
);

t.test(
  'a word deep in a long spec: the spec is searched whole, the snippet comes from its first 20,000 characters or the idea',
  async (t) => {
    const app = await build(t);
    const deep = await storeIdea(app, {
      idea: 'A travel planner',
      spec: `${'Plain filler text. '.repeat(1200)}Quokka island.`,
    });
    const both = await storeIdea(app, {
      idea: 'Quokka tours for a travel planner',
      spec: `${'Plain filler text. '.repeat(1200)}Quokka island.`,
    });
    const running = await storeIdea(app, {
      idea: 'Quokka sightings, live',
      spec: 'Quokka text still being written',
      status: 'processing',
    });
    const page = await history(app, { search: 'quokka' });
    const snippets = Object.fromEntries(page.data.map((d) => [d.id, d.snippet as string]));
    t.same(sorted(page.data.map((d) => d.id)), sorted([deep.id, both.id, running.id]), 'found');
    t.equal(snippets[deep.id], 'A travel planner', 'no hit to show: the idea');
    t.equal(snippets[both.id], '<mark>Quokka</mark> tours for a travel planner', 'the hit in the idea');
    t.equal(snippets[running.id], '<mark>Quokka</mark> sightings, live', "a running job's text is not searched yet");
  },
);

t.test('an empty search is no filter', async (t) => {
  const app = await build(t);
  await storeIdea(app, { idea: 'First idea about gardens' });
  await storeIdea(app, { idea: 'Second idea about boats' });
  for (const search of ['', '   ']) {
    const page = await history(app, { search });
    t.equal(page.pagination.total, 2, JSON.stringify(search));
    t.equal(page.search, null);
  }
});

t.test('search forgets deleted ideas and follows changes to the spec and the status', async (t) => {
  const app = await build(t);
  const english = await storeIdea(app, { idea: 'A lighthouse keepers logbook' });
  const chinese = await storeIdea(app, { idea: '燈塔看守人的工作日誌' });
  t.same(await searchIds(app, 'lighthouse'), [english.id]);
  t.same(await searchIds(app, '看守'), [chinese.id]);

  for (const id of [english.id, chinese.id])
    t.equal((await app.inject({ method: 'DELETE', url: `/api/history/${id}` })).statusCode, 200);
  t.same(await searchIds(app, 'lighthouse'), []);
  t.same(await searchIds(app, '看守'), []);
  t.same(await searchIds(app, '日誌'), []);

  const edited = await storeIdea(app, {
    idea: 'A pottery class planner',
    spec: 'Glaze schedule',
    status: 'processing',
  });
  await app.ideas.update(edited.id, { generatedSpec: 'Kiln booking and 窯燒 slots', status: 'completed' });
  t.same(await searchIds(app, 'glaze'), [], 'the old spec is forgotten');
  t.same(await searchIds(app, 'kiln'), [edited.id]);
  t.same(await searchIds(app, '窯燒'), [edited.id]);
  t.same(await searchIds(app, 'kiln', { status: 'completed' }), [edited.id]);
  t.same(await searchIds(app, 'kiln', { status: 'processing' }), [], 'the status filter follows the new status');
  t.same(await searchIds(app, '窯燒', { status: 'completed' }), [edited.id], 'in the index of short runs too');
  t.same(await searchIds(app, '窯燒', { status: 'processing' }), []);
});

t.test('a generated spec is searchable, and the status filter applies to search', async (t) => {
  const app = await build(t);
  const res = await app.inject({
    method: 'POST',
    url: '/api/generate?wait=true',
    payload: { idea: 'A rota for volunteer firefighters in small villages' },
  });
  t.equal(res.statusCode, 200);
  const { id } = res.json();
  t.same(await searchIds(app, 'clarification'), [id], 'a word only the generated spec has');
  t.same(await searchIds(app, 'firefighter rota'), [id]);
  t.same(await searchIds(app, 'firefighter', { status: 'completed' }), [id]);
  t.same(await searchIds(app, 'firefighter', { status: 'failed' }), []);
});

t.test('search pages: a cursor walks every match once while new matches arrive', async (t) => {
  const app = await build(t);
  const start = Date.now() - 1_000_000;
  const ids: number[] = [];
  for (let i = 0; i < 45; i++)
    ids.push((await storeIdea(app, { idea: `Harbour idea number ${i}`, createdAt: start + i * 1000 })).id);
  await storeIdea(app, { idea: 'Something else entirely' });

  const seen: number[] = [];
  let page = await history(app, { search: 'harbour', limit: 10 });
  t.equal(page.pagination.total, 45);
  t.equal(page.pagination.totalPages, 5);
  for (let n = 1; ; n++) {
    t.equal(page.pagination.page, n);
    t.equal(page.pagination.hasPrev, n > 1);
    seen.push(...page.data.map((d) => d.id));
    await storeIdea(app, { idea: `A new harbour idea arriving during page ${n}` });
    if (!page.pagination.hasNext) break;
    page = await history(app, { search: 'harbour', limit: 10, cursor: page.pagination.nextCursor! });
  }
  t.equal(seen.length, 45, 'no duplicate');
  t.same(sorted(seen), sorted(ids), 'no missing match, and none of the ones that arrived later');
  t.equal(page.pagination.nextCursor, null);
});

t.test(
  'only the newest SEARCH_RANK_WINDOW matches are ranked; a query in most of them is listed newest first',
  async (t) => {
    const app = await build(t, { config: { SEARCH_RANK_WINDOW: 100 } });
    const start = Date.now() - 1_000_000;
    const ids: number[] = [];
    for (let i = 0; i < 300; i++) {
      const rare = i % 3 === 0;
      ids.push(
        (
          await storeIdea(app, {
            idea: `Garden club ${i}：分配家務${rare ? ' with beekeeping' : ''}`,
            spec: rare && i % 2 === 0 ? 'Beekeeping, beekeeping and more beekeeping.' : '',
            createdAt: start + i * 1000,
          })
        ).id,
      );
    }

    const common = await history(app, { search: 'garden', limit: 100 });
    t.equal(common.pagination.total, 100);
    t.same(common.search, { query: 'garden', ranked: false, window: 100, capped: true });
    t.same(
      common.data.map((d) => d.id),
      ids.slice(200).reverse(),
      'the 100 newest matches, newest first',
    );

    const short = await history(app, { search: '家務', limit: 100 });
    t.same([short.search?.ranked, short.search?.capped], [false, true]);
    t.same(
      short.data.map((d) => d.id),
      ids.slice(200).reverse(),
    );

    const sparse = await history(app, { search: 'beekeeping', limit: 100 });
    t.same(
      sparse.search,
      { query: 'beekeeping', ranked: true, window: 100, capped: true },
      'a third of the rows: ranked',
    );
    const beekeepers = ids.filter((_, i) => i % 3 === 0).slice(-100);
    t.same(sorted(sparse.data.map((d) => d.id)), sorted(beekeepers), 'among the 100 newest matches');
    t.ok(
      sparse.data
        .slice(0, 17)
        .every((d) => (d.snippet as string).includes('<mark>Beekeeping</mark>, <mark>beekeeping</mark>')),
      'the ideas whose spec repeats the word come first',
    );
  },
);

t.test('a one- or two-character query finds every idea that holds it, whatever character follows it', async (t) => {
  const app = await build(t);
  // 150 different characters after 家務: more continuations than any short list of trigrams beginning with 家務 could hold.
  const followers = Array.from({ length: 150 }, (_, i) => String.fromCodePoint(0x5c71 + i));
  const ids: number[] = [];
  for (const follower of followers) ids.push((await storeIdea(app, { idea: `一個關於家務${follower}的想法` })).id);
  const unrelated = await storeIdea(app, { idea: '一個關於旅行的想法' });

  for (const search of ['家務', '家', '務']) {
    const page = await history(app, { search, limit: 100 });
    t.equal(page.pagination.total, followers.length, `${search}: every idea is counted`);
    t.notOk(
      page.data.some((d) => d.id === unrelated.id),
      `${search}: and no other`,
    );
  }
  const last = await history(app, { search: '務' + followers.at(-1), limit: 100 });
  t.same(
    last.data.map((d) => d.id),
    [ids.at(-1)],
    'a pair found in one idea only',
  );
});
