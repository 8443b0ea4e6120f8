import { existsSync } from 'node:fs';
import t from 'tap';
import { chromium } from 'playwright-core';
import { build, fakeGemini } from './helper.js';
import { freePort } from './free-port.js';

const CHROMIUM = '/usr/bin/chromium';
const CHUNKS = ['# Shared tool shed\n\n', '## Overview\n', 'Neighbours lend tools.\n', '## Users\n', '- borrowers\n', '- lenders\n', '## Requirements\n', '1. Book a drill\n'];

t.test('the example page at / writes a specification live in a real browser', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)` }, async (t) => {
  const fake = fakeGemini(t, 'ok', { GEMINI_FAKE_DELAY_MS: '80', GEMINI_FAKE_CHUNKS: JSON.stringify(CHUNKS) });
  // The page's own origin must be allowed to open the WebSocket, so the port is chosen before the server starts.
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const app = await build(t, { config: { ...fake.config, ALLOWED_ORIGINS: origin }, env: fake.env });
  await app.listen({ port, host: '127.0.0.1' });

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));

  await page.goto(`${origin}/`);
  await page.fill('#idea', 'A shed where neighbours lend each other tools, booked from a phone');
  await page.click('#submit');

  // Part of the text is on screen while the job is still running: it appears live, not at the end.
  await page.waitForFunction(() => {
    const status = document.querySelector<HTMLElement>('#status')?.dataset.status;
    return status === 'processing' && (document.querySelector('#spec')?.textContent ?? '').length > 0;
  });
  await page.waitForSelector('#status[data-status="completed"]');

  t.equal(await page.textContent('#spec'), CHUNKS.join(''), 'the whole specification is shown');
  t.equal(await page.getAttribute('#transport', 'data-transport'), 'websocket', 'followed over the WebSocket');
  t.match(await page.getAttribute('#download', 'href'), /^\/api\/download\/\d+$/);
  t.same(problems, [], 'no script errors or CSP violations');
});
