import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import type { Page } from 'playwright-core';
import { cspViolations, launch, newContext, noChromium, serve, watch } from './browser.js';
import type { Config } from '../src/config.js';
import { fakeGemini } from './helper.js';

async function write(page: Page, idea: string): Promise<number> {
  await page.fill('#idea', idea);
  await page.click('#submit');
  await page.waitForURL(/\/ideas\/\d+$/);
  return Number(new URL(page.url()).pathname.split('/').pop());
}

const CHUNKS = [
  '# Shared tool shed\n\n',
  'Neighbours lend each other tools.\n\n',
  '## Users\n\n',
  '- borrowers\n',
  '- lenders\n\n',
  '## Requirements\n\n',
  '1. Book a drill [NEEDS CLARIFICATION: how long may a loan last?]\n',
  '2. Return it\n\n',
  '| Tool | Count |\n|---|---|\n| Drill | 2 |\n\n',
  '## Open questions\n\n',
  '```\nnpm start\n```\n',
];

/** The service behind the fake Gemini CLI in `mode`, streaming `chunks` one every `delayMs`. */
async function streaming(
  t: Test,
  {
    mode = 'ok',
    delayMs = 300,
    chunks = CHUNKS,
    config = {},
    allowOrigin,
  }: { mode?: string; delayMs?: number; chunks?: string[]; config?: Partial<Config>; allowOrigin?: boolean } = {},
) {
  const fake = fakeGemini(t, mode, {
    GEMINI_FAKE_DELAY_MS: String(delayMs),
    GEMINI_FAKE_CHUNKS: JSON.stringify(chunks),
  });
  return serve(t, { config: { ...fake.config, ...config }, env: fake.env, allowOrigin });
}

t.test(
  'a spec is written live: several renders while it streams, earlier blocks kept, the final Markdown equal to the API',
  { skip: noChromium },
  async (t) => {
    const { base } = await streaming(t);
    const browser = await launch(t);
    const context = await newContext(browser, { acceptDownloads: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    const page = await context.newPage();
    const problems = watch(page);

    await page.goto(`${base}/`);
    t.equal(
      await page.locator('#status-link').getAttribute('href'),
      '/status',
      "the page links to the operators' dashboard",
    );
    const id = await write(page, 'A shed where neighbours lend each other tools, booked from a phone');

    // Once the heading's block is done (the next block has begun), remember its element.
    await page.waitForFunction(() => {
      const first = document.querySelector('#spec .block:not(.open) h1');
      if (!first) return false;
      (window as unknown as { firstHeading: Element }).firstHeading = first;
      return true;
    });
    // Later, still while the job runs: more blocks, the same heading element, several renders, live over the WebSocket.
    const midway = await page.waitForFunction(() => {
      const status = document.querySelector<HTMLElement>('#job-status')?.dataset.status;
      if (status !== 'processing') return { status };
      if (document.querySelectorAll('#spec h2').length < 2) return false;
      return {
        status,
        kept: (window as unknown as { firstHeading: Element }).firstHeading.isConnected,
        renders: Number(document.querySelector<HTMLElement>('#spec')?.dataset.renders),
        transport: document.querySelector<HTMLElement>('#transport')?.dataset.transport,
        statusText: document.querySelector('#job-status')?.textContent,
      };
    });
    const seen = (await midway.jsonValue()) as {
      status: string;
      kept?: boolean;
      renders?: number;
      transport?: string;
      statusText?: string;
    };
    t.equal(seen.status, 'processing', 'part of the spec is on screen while the job still runs');
    t.equal(seen.kept, true, 'a finished block is not rendered again when text arrives');
    t.ok((seen.renders ?? 0) >= 3, `several intermediate renders (${seen.renders})`);
    t.equal(seen.transport, 'websocket', 'followed over the WebSocket');
    t.match(seen.statusText, /attempt 1/, 'the status says which attempt');

    await page.waitForSelector('#job-status[data-status="completed"]');
    const api = await (await fetch(`${base}/api/spec/${id}`)).json();
    t.equal(api.generatedSpec, CHUNKS.join(''), 'the service stored the whole spec');
    await page.click('#copy');
    await page.locator('#note', { hasText: 'Copied' }).waitFor();
    t.equal(
      await page.evaluate(() => navigator.clipboard.readText()),
      api.generatedSpec,
      'Copy Markdown copies exactly the spec the API serves',
    );

    const spec = page.locator('#spec');
    t.equal(await spec.locator('h1').innerText(), 'Shared tool shed');
    t.same(await spec.locator('h2').allInnerTexts(), ['Users', 'Requirements', 'Open questions'], 'headings rendered');
    t.equal(await spec.locator('ul li').count(), 2, 'a list');
    t.equal(await spec.locator('table td').first().innerText(), 'Drill', 'a table');
    t.match(await spec.locator('pre code').innerText(), /^npm start\s*$/, 'a code block');
    t.match(
      await spec.locator('mark.clarify').innerText(),
      /NEEDS CLARIFICATION: how long may a loan last\?/,
      'the open question is highlighted',
    );
    t.same(
      await page.locator('#toc a').allInnerTexts(),
      ['Shared tool shed', 'Users', 'Requirements', 'Open questions'],
      'a table of contents from the headings',
    );
    await page.click('#toc a >> text=Open questions');
    t.equal(
      await page.evaluate(() => document.activeElement?.textContent),
      'Open questions',
      'a contents entry moves to its section',
    );
    t.equal(await page.locator('#offline').count(), 0, 'a model-written spec is not labelled offline');

    t.match(await page.getAttribute('#download', 'href'), /^\/api\/download\/\d+$/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    t.equal(readFileSync((await download.path())!, 'utf8'), api.generatedSpec, 'Download saves the Markdown');

    // Write again: the same idea, a new job, its own page.
    await page.click('#write-again');
    await page.waitForURL((url) => url.pathname !== `/ideas/${id}`);
    const again = Number(new URL(page.url()).pathname.split('/').pop());
    t.ok(again > id, 'a new idea');
    const second = await (await fetch(`${base}/api/spec/${again}`)).json();
    t.equal(second.userInput, api.userInput, 'with the same idea');

    t.same(await cspViolations(page), [], 'no CSP violations');
    t.same(problems, [], 'no script errors');
  },
);

t.test('Cancel stops a running job', { skip: noChromium }, async (t) => {
  const slow = Array.from({ length: 60 }, (_, i) => `Line ${i} of a long spec.\n\n`);
  const { base } = await streaming(t, { delayMs: 500, chunks: slow });
  const page = await (await newContext(await launch(t))).newPage();
  const problems = watch(page);
  await page.goto(`${base}/`);
  const id = await write(page, 'A very long specification that we will stop early');
  await page.waitForFunction(() => (document.querySelector('#spec')?.textContent ?? '').includes('Line 1'));
  await page.click('#cancel');
  await page.waitForSelector('#job-status[data-status="cancelled"]');
  t.equal((await (await fetch(`${base}/api/spec/${id}`)).json()).status, 'cancelled', 'the service cancelled the job');
  t.equal(await page.locator('#cancel').count(), 0, 'no Cancel button once it ended');
  t.ok(await page.locator('#cancelled-note').isVisible(), 'the page says it was cancelled');
  t.ok(await page.locator('#write-again').isVisible(), 'and offers to write again');
  t.same(problems, []);
});

/** The WebSocket refused (the page's origin is not allowed), and the event stream too when `blockEvents`. */
function followsWithoutWebSocket(name: string, transport: string, label: string, blockEvents: boolean) {
  t.test(name, { skip: noChromium }, async (t) => {
    // The page's origin is not in ALLOWED_ORIGINS, so the service refuses its WebSocket upgrade.
    const { base } = await streaming(t, { delayMs: 400, allowOrigin: false });
    const page = await (await newContext(await launch(t))).newPage();
    // A proxy that strips upgrades and buffers streams: only plain requests get through.
    if (blockEvents) await page.route(/\/api\/job\/[^/]+\/events/, (route) => route.abort());
    await page.goto(`${base}/`);
    const id = await write(page, 'A shed where neighbours lend each other tools');
    const badge = page.locator(`#transport[data-transport="${transport}"]`);
    await badge.waitFor();
    t.equal(await badge.innerText(), label, `the badge says ${label}`);
    await page.waitForSelector('#job-status[data-status="completed"]');
    const api = await (await fetch(`${base}/api/spec/${id}`)).json();
    t.equal(await page.locator('#spec h1').innerText(), 'Shared tool shed', 'the spec arrives all the same');
    t.same(await page.locator('#spec h2').allInnerTexts(), ['Users', 'Requirements', 'Open questions']);
    t.equal(api.status, 'completed');
  });
}

followsWithoutWebSocket(
  'when the WebSocket is refused the page follows the job over Server-Sent Events and says so',
  'sse',
  'Live over Server-Sent Events',
  false,
);
followsWithoutWebSocket(
  'when the WebSocket and the event stream are refused the page follows the job by polling and says so',
  'polling',
  'Polling',
  true,
);

t.test(
  'a dropped WebSocket: the page says it is reconnecting, comes back live, and the spec has no gap or repeat',
  { skip: noChromium },
  async (t) => {
    const { base } = await streaming(t);
    const context = await newContext(await launch(t));
    await context.addInitScript(() => {
      // Every transport the badge shows, in order.
      const seen: string[] = [];
      (window as unknown as { transports: string[] }).transports = seen;
      new MutationObserver(() => {
        const now = document.querySelector<HTMLElement>('#transport')?.dataset.transport;
        if (now && seen[seen.length - 1] !== now) seen.push(now);
      }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-transport'] });
    });
    const page = await context.newPage();
    // The first socket is cut once the first text arrives; the ones after it pass through.
    let cut = false;
    await page.routeWebSocket(/\/api\/ws$/, (socket) => {
      const server = socket.connectToServer();
      socket.onMessage((message) => server.send(message));
      server.onMessage((message) => {
        socket.send(message);
        if (!cut && typeof message === 'string' && message.includes('"delta"')) {
          cut = true;
          void socket.close({ code: 4000, reason: 'cut by the test' });
          void server.close();
        }
      });
    });
    await page.goto(`${base}/`);
    const id = await write(page, 'A shed where neighbours lend each other tools');
    await page.waitForSelector('#job-status[data-status="completed"]');
    const transports = await page.evaluate(() => (window as unknown as { transports: string[] }).transports);
    t.ok(cut, 'the socket was cut mid-stream');
    t.same(
      transports.slice(0, 3),
      ['websocket', 'reconnecting', 'websocket'],
      `live, reconnecting, live again (${transports.join(' → ')})`,
    );
    const api = await (await fetch(`${base}/api/spec/${id}`)).json();
    t.equal(api.generatedSpec, CHUNKS.join(''));
    t.same(
      await page.locator('#spec h2').allInnerTexts(),
      ['Users', 'Requirements', 'Open questions'],
      'the page shows the stored spec',
    );
  },
);

t.test('a retry shows its attempt number and starts the text again', { skip: noChromium }, async (t) => {
  const { base } = await streaming(t, { mode: 'crash-once' });
  const page = await (await newContext(await launch(t))).newPage();
  const problems = watch(page);
  await page.goto(`${base}/`);
  await write(page, 'A shed where neighbours lend each other tools');
  const during = await page.waitForFunction(() => {
    const status = document.querySelector('#job-status')?.textContent ?? '';
    const text = document.querySelector('#spec')?.textContent ?? '';
    return /attempt 2/.test(status) && text.includes('Shared tool shed') ? { status, text } : false;
  });
  const seen = (await during.jsonValue()) as { status: string; text: string };
  t.match(seen.status, /Writing · attempt 2/, 'the second attempt is shown');
  t.notMatch(seen.text, /partial text/, "the failed attempt's text is gone");
  await page.waitForSelector('#job-status[data-status="completed"]');
  t.notMatch(await page.locator('#spec').innerText(), /partial text/);
  t.same(problems, []);
});

t.test('a failed job shows the error and what to do', { skip: noChromium }, async (t) => {
  const fake = fakeGemini(t, 'exit41');
  const { base } = await serve(t, { config: fake.config, env: fake.env });
  const page = await (await newContext(await launch(t))).newPage();
  const problems = watch(page);
  await page.goto(`${base}/`);
  await write(page, 'An idea the generator cannot write without signing in');
  await page.waitForSelector('#job-status[data-status="failed"]');
  const box = await page.locator('#job-error').innerText();
  t.match(box, /GEMINI_AUTH/, 'the error code');
  t.match(box, /What to do: .*Ask the operator/, 'and what to do about it');
  t.ok(await page.locator('#write-again').isVisible());
  t.same(problems, []);
});

t.test('a hostile idea and a hostile generated spec run no script', { skip: noChromium }, async (t) => {
  const hostile = [
    '# Plan <script>alert("h1")</script>\n\n',
    '<img src=x onerror="alert(\'img\')">\n\n',
    '<iframe src="javascript:alert(\'iframe\')"></iframe>\n\n',
    '[click me](javascript:alert("link"))\n\n',
    '<a href="javascript:alert(\'a\')" onclick="alert(\'click\')">raw link</a>\n\n',
    '![pic](javascript:alert("image"))\n\n',
    '<svg onload="alert(\'svg\')"></svg>\n\n',
    '<style>body { display: none }</style>\n\n',
    '[safe](https://example.org/ "title")\n',
  ];
  const fake = fakeGemini(t, 'ok', { GEMINI_FAKE_CHUNKS: JSON.stringify(hostile) });
  const { base } = await serve(t, { config: fake.config, env: fake.env });
  const context = await newContext(await launch(t));
  const page = await context.newPage();
  const problems = watch(page);
  await page.goto(`${base}/`);
  const idea = '<img src=x onerror="alert(\'idea\')"><script>alert("idea")</script> a hostile idea about tools';
  await write(page, idea);
  await page.waitForSelector('#job-status[data-status="completed"]');

  const spec = page.locator('#spec');
  t.equal(
    await spec.locator('script, iframe, img, svg, style, [onerror], [onclick], [onload]').count(),
    0,
    'no active element or handler from the spec',
  );
  const hrefs = await spec.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
  t.notOk(
    hrefs.some((href) => /^\s*javascript:/i.test(href)),
    `no javascript: links (${hrefs.join(' ')})`,
  );
  t.ok(hrefs.includes('https://example.org/'), 'ordinary links stay');
  t.match(await spec.locator('h1').innerText(), 'Plan <script>alert("h1")</script>', 'raw HTML is shown as text');
  t.ok(await page.locator('body').isVisible(), 'a <style> from the spec changed nothing');
  t.equal(await page.locator('#idea-input').textContent(), idea, 'the idea is shown as text, exactly');
  t.match(await page.locator('#history-list .open').first().innerText(), '<img src=x', 'the history lists it as text');

  await page.fill('#search', 'hostile');
  await page.locator('#history-list .snippet mark').first().waitFor();
  t.equal(
    await page.locator('#history-list .snippet img, #history-list .snippet script').count(),
    0,
    'the search snippet holds text and marks only',
  );

  t.same(await cspViolations(page), [], 'nothing even tried to run');
  t.same(problems, [], 'no dialog, no console error');
});

t.test(
  'with API_KEY the page asks for the key once, keeps it for the tab, and follows live over the WebSocket',
  { skip: noChromium },
  async (t) => {
    const KEY = 'test-key-0123456789abcdef';
    const { base } = await streaming(t, { config: { API_KEY: KEY } });
    t.equal((await fetch(`${base}/api/history`)).status, 401, 'the API needs the key');
    const context = await newContext(await launch(t), { acceptDownloads: true });
    const page = await context.newPage();

    await page.goto(`${base}/`);
    await page.locator('#api-key').waitFor();
    await page.fill('#api-key', 'wrong-key');
    await page.keyboard.press('Enter');
    await page.locator('#key-dialog', { hasText: 'not accepted' }).waitFor();
    t.pass('a wrong key is refused and asked for again');
    await page.fill('#api-key', KEY);
    await page.keyboard.press('Enter');
    await page.locator('#history-empty').waitFor();
    t.equal(await page.evaluate(() => sessionStorage.getItem('idea2spec.apiKey')), KEY, 'kept in sessionStorage');

    const id = await write(page, 'A shed where neighbours lend each other tools');
    await page.locator('#job-status[data-status="processing"]').waitFor();
    const transport = page.locator('#transport');
    await transport.waitFor();
    t.equal(
      await transport.getAttribute('data-transport'),
      'websocket',
      'the browser WebSocket is accepted with the key (not polling)',
    );
    await page.waitForSelector('#job-status[data-status="completed"]');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const api = await (await fetch(`${base}/api/spec/${id}`, { headers: { authorization: `Bearer ${KEY}` } })).json();
    t.equal(readFileSync((await download.path())!, 'utf8'), api.generatedSpec, 'Download sends the key too');

    await page.reload();
    await page.locator(`#history-list li[data-id="${id}"]`).waitFor();
    t.notOk(await page.locator('#api-key').isVisible(), 'not asked again in the same tab');
  },
);
