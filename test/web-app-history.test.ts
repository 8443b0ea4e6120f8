import t from 'tap';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { artifact, axeViolations, cspViolations, launch, newContext, noChromium, serve, watch } from './browser.js';

async function write(app: FastifyInstance, idea: string): Promise<number> {
  const res = await app.inject({ method: 'POST', url: '/api/generate?wait=true', payload: { idea } });
  if (res.statusCode !== 200) throw new Error(`generate answered ${res.statusCode}: ${res.body}`);
  return res.json().id;
}

const listed = (page: Page) =>
  page.locator('#history-list li').evaluateAll((items) => items.map((li) => Number((li as HTMLElement).dataset.id)));

t.test(
  'history: search finds a Chinese idea by a two-character word and shows the highlighted snippet',
  { skip: noChromium },
  async (t) => {
    const { app, base } = await serve(t);
    const tools = await write(app, '一个让邻居互相借用工具的共享工具棚，用手机预约');
    await write(app, '一个帮助老人预约社区医生的小程序，支持语音输入');
    await write(app, 'A marketplace where neighbours lend each other tools');
    const page = await (await newContext(await launch(t))).newPage();
    const problems = watch(page);
    await page.goto(`${base}/`);
    await page.locator('#history-list[data-count="3"]').waitFor();

    await page.fill('#search', '工具');
    await page.locator('#history-list[data-count="1"]').waitFor();
    t.same(await listed(page), [tools], 'only the idea with the word');
    const marks = await page.locator('#history-list .snippet mark').allInnerTexts();
    t.ok(marks.length > 0 && marks.every((m) => m === '工具'), `the hits are marked (${marks.join(', ')})`);

    await page.fill('#search', 'zzzz-nothing-like-it');
    await page.locator('#history-empty').waitFor();
    t.equal(await page.locator('#history-empty').innerText(), 'Nothing matches.');

    await page.fill('#search', '');
    await page.selectOption('#status-filter', 'failed');
    await page.locator('#history-empty').waitFor();
    t.equal(await page.locator('#history-list li').count(), 0, 'the status filter: no failed ideas');
    await page.selectOption('#status-filter', 'completed');
    await page.locator('#history-list[data-count="3"]').waitFor();
    t.pass('the status filter: three completed ideas');
    t.same(problems, []);
  },
);

t.test(
  'history: "load more" walks the cursor pages to the end, newest first, each idea once',
  { skip: noChromium },
  async (t) => {
    const { app, base } = await serve(t);
    const ids: number[] = [];
    for (let i = 0; i < 45; i++)
      ids.push(await write(app, `Idea number ${i}: a tool library for a street of ${i + 2} houses`));
    const page = await (await newContext(await launch(t))).newPage();
    await page.goto(`${base}/`);
    await page.locator('#history-list[data-count="20"]').waitFor();
    await page.click('#load-more');
    await page.locator('#history-list[data-count="40"]').waitFor();
    await page.click('#load-more');
    await page.locator('#history-list[data-count="45"]').waitFor();
    t.equal(await page.locator('#load-more').count(), 0, 'no "load more" at the end');
    t.same(await listed(page), [...ids].reverse(), 'every idea, newest first, none twice');
    const meta = await page.locator('#history-list li .meta').first().innerText();
    t.match(meta, /Completed/, 'each item shows its status');
    t.match(meta, /Offline draft/, 'an offline draft is labelled');
    t.match(meta, /now|seconds? ago/, 'its age');
    t.match(meta, /took \d/, 'and the time it took');
  },
);

t.test('history: delete asks first, then removes the idea (and leaves its page)', { skip: noChromium }, async (t) => {
  const { app, base } = await serve(t);
  const keep = await write(app, 'A repair café booking board for a small town');
  const doomed = await write(app, 'A shed where neighbours lend each other tools');
  const page = await (await newContext(await launch(t))).newPage();
  const problems = watch(page);
  await page.goto(`${base}/ideas/${doomed}`);
  await page.waitForSelector('#job-status[data-status="completed"]');

  await page.click(`#history-list li[data-id="${doomed}"] .delete`);
  await page.locator('#delete-dialog').waitFor();
  await page.click('#keep');
  t.equal((await fetch(`${base}/api/spec/${doomed}`)).status, 200, 'keeping it deletes nothing');

  await page.click(`#history-list li[data-id="${doomed}"] .delete`);
  await page.click('#confirm-delete');
  await page.locator(`#history-list li[data-id="${doomed}"]`).waitFor({ state: 'detached' });
  t.equal((await fetch(`${base}/api/spec/${doomed}`)).status, 404, 'the service deleted it');
  t.same(await listed(page), [keep], 'the other idea stays');
  await page.waitForURL(`${base}/`);
  t.equal(await page.locator('#idea-view').count(), 0, 'its page is left');
  t.same(problems, []);
});

t.test('deep links open an idea; the back button returns to the previous one', { skip: noChromium }, async (t) => {
  const { app, base } = await serve(t);
  const first = await write(app, 'A repair café booking board for a small town');
  const second = await write(app, 'A shed where neighbours lend each other tools');
  const page = await (await newContext(await launch(t))).newPage();
  const problems = watch(page);

  const res = await page.goto(`${base}/ideas/${first}`);
  t.equal(res?.headers()['cache-control'], 'no-store', 'the page is never cached');
  t.match(res?.headers()['content-security-policy'], /script-src 'self'/, 'deep links get the CSP too');
  await page.waitForSelector('#job-status[data-status="completed"]');
  t.equal(await page.locator('#idea-input').textContent(), 'A repair café booking board for a small town');
  t.ok(await page.locator('#offline').isVisible(), 'an offline draft is labelled as such');

  await page.click(`#history-list li[data-id="${second}"] .open`);
  await page.waitForURL(`${base}/ideas/${second}`);
  await page.locator('#idea-input', { hasText: 'A shed where' }).waitFor({ state: 'attached' });
  await page.goBack();
  await page.waitForURL(`${base}/ideas/${first}`);
  await page.locator('#idea-input', { hasText: 'A repair café' }).waitFor({ state: 'attached' });
  t.pass('back shows the first idea again');
  await page.goForward();
  await page.locator('#idea-input', { hasText: 'A shed where' }).waitFor({ state: 'attached' });
  t.pass('forward shows the second');
  t.equal(
    await page.title(),
    'A shed where neighbours lend each other tools — idea2spec',
    'the tab is named after the idea',
  );

  await page.goto(`${base}/ideas/999999`);
  await page.locator('#idea-title', { hasText: 'does not exist' }).waitFor();
  t.pass('an unknown idea says so');

  const script = (await page.locator('script[src^="/assets/"]').getAttribute('src'))!;
  const asset = await fetch(`${base}${script}`);
  t.equal(
    asset.headers.get('cache-control'),
    'public, max-age=31536000, immutable',
    'hashed assets are cached for good',
  );
  t.equal(asset.headers.get('content-type'), 'text/javascript; charset=utf-8');
  t.same(
    problems.filter((p) => !p.includes('404')),
    [],
    'no errors but the expected 404 of the unknown idea',
  );
});

t.test('keyboard: shortcuts with a help dialog; the idea written with Ctrl+Enter', { skip: noChromium }, async (t) => {
  const { base } = await serve(t);
  const page = await (await newContext(await launch(t))).newPage();
  const problems = watch(page);
  await page.goto(`${base}/`);
  await page.locator('#history-empty').waitFor();

  await page.keyboard.press('?');
  await page.locator('#help-dialog table').waitFor();
  t.match(await page.locator('#help-dialog').innerText(), /Ctrl\/⌘ \+ Enter/, 'the help lists the shortcuts');
  await page.keyboard.press('Escape');
  await page.locator('#help-dialog table').waitFor({ state: 'detached' });

  await page.keyboard.press('/');
  t.equal(await page.evaluate(() => document.activeElement?.id), 'search', '/ focuses the search');
  await page.keyboard.press('Escape');
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('n');
  t.equal(await page.evaluate(() => document.activeElement?.id), 'idea', 'n focuses the idea');
  await page.keyboard.type('Short');
  t.match(await page.locator('#idea-count').innerText(), /5 \/ 5000 .*At least 10/, 'the counter says what is missing');
  t.ok(await page.locator('#submit').isDisabled(), 'too short to send');
  await page.keyboard.type(' bike repair stands for every street');
  await page.keyboard.press('Control+Enter');
  await page.waitForURL(/\/ideas\/\d+$/);
  await page.waitForSelector('#job-status[data-status="completed"]');
  t.pass('Ctrl+Enter wrote it');

  // Tab reaches the controls, and the focused one is outlined.
  await page.locator('#idea').focus();
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => {
    const el = document.activeElement as HTMLElement;
    return { id: el.id, outline: getComputedStyle(el).outlineStyle };
  });
  t.same(focused, { id: 'template', outline: 'solid' }, 'visible focus');
  t.same(problems, []);
});

t.test('the interface in Chinese, from the browser language, with a switch', { skip: noChromium }, async (t) => {
  const { app, base } = await serve(t);
  await write(app, '一个让邻居互相借用工具的共享工具棚，用手机预约');
  const browser = await launch(t);
  const page = await (await newContext(browser, { locale: 'zh-CN', viewport: { width: 1280, height: 900 } })).newPage();
  const problems = watch(page);
  await page.goto(`${base}/`);
  await page.locator('#history-list li').first().waitFor();
  t.equal(await page.getAttribute('html', 'lang'), 'zh-Hans');
  t.equal(await page.locator('#submit').innerText(), '撰写规格说明');
  t.equal(await page.locator('#history-title').innerText(), '历史记录');
  t.match(
    await page.locator('#history-list .meta').first().innerText(),
    /已完成.*离线草稿/s,
    'statuses and labels too',
  );
  await page.click('#history-list li .open');
  await page.waitForSelector('#job-status[data-status="completed"]');
  await page.screenshot({ path: artifact('app-zh-desktop.png') });

  await page.click('#lang');
  t.equal(await page.locator('#submit').innerText(), 'Write the specification', 'the switch changes the language');
  t.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.reload();
  await page.locator('#submit').waitFor();
  t.equal(await page.locator('#submit').innerText(), 'Write the specification', 'and the choice is remembered');
  t.same(problems, []);
});

t.test(
  'accessibility (axe-core, no serious or critical violations) and screenshots: desktop and phone, light and dark',
  { skip: noChromium },
  async (t) => {
    const { app, base } = await serve(t);
    await write(app, '一个让邻居互相借用工具的共享工具棚，用手机预约');
    await write(app, 'A repair café booking board for a small town, with volunteers and a waiting list');
    const id = await write(app, 'A shed where neighbours lend each other tools, booked from a phone');
    const browser = await launch(t);
    const views = [
      { name: 'desktop', viewport: { width: 1280, height: 900 } },
      { name: 'phone', viewport: { width: 390, height: 844 } },
    ];
    for (const { name, viewport } of views) {
      for (const colorScheme of ['light', 'dark'] as const) {
        const page = await (await newContext(browser, { viewport, colorScheme, locale: 'en-GB' })).newPage();
        const problems = watch(page);
        await page.goto(`${base}/`);
        await page.locator('#history-list[data-count="3"]').waitFor();
        t.same(await axeViolations(page), [], `${name} ${colorScheme}: the home page`);
        await page.screenshot({ path: artifact(`app-home-${name}-${colorScheme}.png`) });

        await page.click(`#history-list li[data-id="${id}"] .open`);
        await page.waitForSelector('#job-status[data-status="completed"]');
        await page.locator('#toc').waitFor();
        t.same(await axeViolations(page), [], `${name} ${colorScheme}: a finished spec`);
        await page.locator('#idea-view').scrollIntoViewIfNeeded();
        await page.screenshot({ path: artifact(`app-spec-${name}-${colorScheme}.png`) });

        await page.keyboard.press('?');
        await page.locator('#help-dialog table').waitFor();
        t.same(await axeViolations(page), [], `${name} ${colorScheme}: the help dialog`);
        t.same(await cspViolations(page), [], `${name} ${colorScheme}: no CSP violations`);
        t.same(problems, [], `${name} ${colorScheme}: no errors`);
        await page.context().close();
      }
    }
  },
);
