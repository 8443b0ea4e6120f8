import t from 'tap';
import { artifact, cspViolations, launch, newContext, noChromium, watch } from './browser.js';
import { baseUrl, build, submit } from './helper.js';

const IDEA = 'A marketplace where neighbours lend each other tools';

t.test(
  'the /status dashboard and /api/docs run in Chromium with no errors and no CSP violations',
  { skip: noChromium },
  async (t) => {
    const app = await build(t, { listen: true, config: { HEALTH_SAMPLE_MS: 100 } });
    const base = baseUrl(app);
    const done = await app.inject({ method: 'POST', url: '/api/generate?wait=true', payload: { idea: IDEA } });
    t.equal(done.statusCode, 200);
    const jobId: string = done.json().jobId;
    for (let i = 0; i < 20; i++) await fetch(`${base}/api/health`);
    await fetch(`${base}/api/spec/${done.json().id}`);

    const browser = await launch(t);
    const context = await newContext(browser, { viewport: { width: 1400, height: 1000 } });

    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(`${base}/status`);
    await page.locator(`#jobs tr[data-job-id="${jobId}"]`).waitFor();
    t.match(
      await page.locator(`#jobs tr[data-job-id="${jobId}"]`).innerText(),
      /completed/,
      'the job just run is listed as completed',
    );
    t.equal(await page.locator('#overall').getAttribute('data-status'), 'OK');
    t.equal(await page.locator('#app-link').getAttribute('href'), '/', 'the dashboard links to the web app');

    const points = async (id: string) => Number(await page.locator(`#${id}`).getAttribute('data-points'));
    await page.waitForFunction(() =>
      ['chart-latency', 'chart-memory', 'chart-jobs'].every(
        (id) => Number(document.getElementById(id)?.dataset.points) > 0,
      ),
    );
    for (const chart of ['chart-requests', 'chart-latency', 'chart-jobs', 'chart-memory']) {
      t.ok((await points(chart)) > 0, `${chart} holds data`);
      t.ok((await page.locator(`#${chart} path.series`).count()) > 0, `${chart} draws a line`);
    }
    t.ok((await page.locator('#routes tbody tr').count()) > 0, 'the route table is filled');

    // Live: a job submitted after the page loaded appears without a reload.
    const later = await submit(app, { idea: `${IDEA}, and garden machines` });
    await page.locator(`#jobs tr[data-job-id="${later.json().jobId}"]`).waitFor();
    t.pass('a new job appears without a reload');

    await page.screenshot({ path: artifact('status.png'), fullPage: true });
    t.same(await cspViolations(page), [], 'no CSP violations on /status');
    t.same(problems, [], 'no console errors on /status');

    const docs = await context.newPage();
    const docsProblems = watch(docs);
    await docs.goto(`${base}/api/docs`);
    await docs.locator('.swagger-ui .info .title').waitFor();
    await docs.locator('.opblock-summary-path', { hasText: '/api/metrics/summary' }).first().waitFor();
    await docs.screenshot({ path: artifact('docs.png') });
    t.same(await cspViolations(docs), [], 'no CSP violations on /api/docs');
    t.same(docsProblems, [], 'no console errors on /api/docs');
  },
);

t.test(
  'with API_KEY, /status asks for the key once, keeps it for the tab and shows the job data',
  { skip: noChromium },
  async (t) => {
    const key = 'status-page-key-0123456789';
    const app = await build(t, { listen: true, config: { API_KEY: key, HEALTH_SAMPLE_MS: 100 } });
    const base = baseUrl(app);
    const done = await app.inject({
      method: 'POST',
      url: '/api/generate?wait=true',
      payload: { idea: IDEA },
      headers: { authorization: `Bearer ${key}` },
    });
    t.equal(done.statusCode, 200);

    const context = await newContext(await launch(t));
    const page = await context.newPage();
    const problems = watch(page);
    const sentKeys = new Set<string>();
    page.on('request', (request) => {
      if (request.url().includes('/api/jobs/recent')) sentKeys.add(request.headers().authorization ?? 'none');
    });

    await page.goto(`${base}/status`);
    await page.locator('#key-form').waitFor({ state: 'visible' });
    t.equal(await page.locator('#overall').innerText(), 'API key needed');
    await page.locator('#api-key').fill('a wrong key');
    await page.locator('#key-form button').click();
    await page.locator('#key-note', { hasText: 'refused' }).waitFor();
    t.ok(await page.locator('#key-form').isVisible(), 'a wrong key is asked for again');

    await page.locator('#api-key').fill(key);
    await page.locator('#key-form button').click();
    await page.locator(`#jobs tr[data-job-id="${done.json().jobId}"]`).waitFor();
    t.notOk(await page.locator('#key-form').isVisible(), 'the form is gone once the key works');
    t.ok(sentKeys.has(`Bearer ${key}`), 'the data calls send Authorization: Bearer');
    t.equal(await page.evaluate(() => sessionStorage.getItem('idea2spec.apiKey')), key);

    await page.reload();
    await page.locator(`#jobs tr[data-job-id="${done.json().jobId}"]`).waitFor();
    t.notOk(await page.locator('#key-form').isVisible(), 'a reload in the same tab needs no key again');
    // The browser logs each refused data call; anything else would be a fault of the page.
    t.same(
      problems.filter((p) => !/status of 401/.test(p)),
      [],
      'no other console errors',
    );
  },
);
