import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { openDatabase } from '../src/db/client.js';
import { build, fakeGemini, submit, tempDir, waitForJob, WsClient, wsUrl } from './helper.js';

const IDEA = 'A marketplace where neighbours lend each other tools';
const QUIET = { METRICS_FLUSH_MS: 600_000 };

/** Nearest-rank percentile: the ceil(p/100 * n)-th smallest value. */
function nearestRank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1];
}

t.test('successful responses are recorded by route pattern, in batches', async (t) => {
  const app = await build(t, { config: QUIET });
  const { jobId } = (await submit(app, { idea: IDEA })).json();
  await waitForJob(app, jobId);
  await app.inject('/api/health');
  await app.inject('/api/job/00000000-0000-4000-8000-000000000000/status');
  await app.inject('/no/such/route');

  const before = await app.dbClient.execute('SELECT COUNT(*) AS n FROM performance_metrics');
  t.equal(Number(before.rows[0].n), 0, 'nothing is written per request: rows wait for the next batch');

  const summary = (await app.inject('/api/metrics/summary?window=15m')).json();
  const route = (method: string, pattern: string) =>
    summary.routes.find((r: any) => r.method === method && r.route === pattern);
  t.match(route('POST', '/api/generate'), { count: 1, serverErrors: 0, clientErrors: 0, errorRate: 0 });
  t.ok(route('GET', '/api/job/:jobId/status').count >= 2, 'polls of different jobs share one pattern');
  t.equal(route('GET', '/api/health').count, 1);
  t.match(route('GET', 'unmatched'), { count: 1, clientErrors: 1 });

  const rows = await app.dbClient.execute('SELECT route, status_code FROM performance_metrics');
  t.ok(
    rows.rows.some((r) => r.route === '/api/job/:jobId/status' && r.status_code === 200),
    'a 200 is stored',
  );
  t.notOk(
    rows.rows.some((r) => String(r.route).includes(jobId)),
    'no raw URL is stored',
  );
});

t.test('summary percentiles are nearest-rank over exactly the injected durations', async (t) => {
  const app = await build(t, { config: QUIET });
  const now = Date.now();
  const insert = async (
    route: string,
    durations: number[],
    status = (i: number) => (i % 10 === 0 ? 500 : 200),
    at = now - 1000,
  ) => {
    for (const [i, d] of durations.entries()) {
      await app.dbClient.execute({
        sql: 'INSERT INTO performance_metrics (route, method, status_code, duration_ms, created_at) VALUES (?, ?, ?, ?, ?)',
        args: [route, 'GET', status(i), d, at],
      });
    }
  };
  // 1..100 shuffled: p50 = 50, p95 = 95, p99 = 99; every tenth is a 500.
  const hundred = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);
  await insert('/known/hundred', hundred);
  await insert('/known/seven', [5, 1, 9, 3, 7, 2, 8], () => 200);
  await insert('/known/old', [1000], () => 200, now - 20 * 60_000);

  const summary = (await app.inject('/api/metrics/summary?window=15m')).json();
  const hundredStats = summary.routes.find((r: any) => r.route === '/known/hundred');
  t.match(hundredStats, {
    count: 100,
    serverErrors: 10,
    errorRate: 0.1,
    p50Ms: 50,
    p95Ms: 95,
    p99Ms: 99,
    maxMs: 100,
    avgMs: 50.5,
  });
  t.match(
    summary.routes.find((r: any) => r.route === '/known/seven'),
    { count: 7, p50Ms: 5, p95Ms: 9, p99Ms: 9 },
  );
  t.notOk(
    summary.routes.some((r: any) => r.route === '/known/old'),
    'rows older than the window are left out',
  );
  t.equal(summary.overall.count, 107);
  t.ok(
    (await app.inject('/api/metrics/summary?window=1h')).json().routes.some((r: any) => r.route === '/known/old'),
    'a wider window takes them in',
  );

  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.integer({ min: 0, max: 100_000 }).map((n) => n / 100),
        { minLength: 1, maxLength: 60 },
      ),
      async (durations) => {
        const route = `/prop/${Math.random()}`;
        await insert(route, durations, () => 200);
        const stats = (await app.inject('/api/metrics/summary?window=5m'))
          .json()
          .routes.find((r: any) => r.route === route);
        return (
          stats.count === durations.length &&
          stats.p50Ms === nearestRank(durations, 50) &&
          stats.p95Ms === nearestRank(durations, 95) &&
          stats.p99Ms === nearestRank(durations, 99)
        );
      },
    ),
    { numRuns: 25 },
  );
});

t.test('the window must be a duration of at most 30 days', async (t) => {
  const app = await build(t);
  for (const bad of ['15', 'm', '0m', '15 m', '1w', '-5m', '99999m']) {
    const res = await app.inject(`/api/metrics/summary?window=${encodeURIComponent(bad)}`);
    t.equal(res.statusCode, 400, bad);
    t.equal(res.json().code, 'FST_ERR_VALIDATION', bad);
  }
  const tooLong = await app.inject('/api/metrics/summary?window=31d');
  t.equal(tooLong.statusCode, 400);
  t.equal(tooLong.json().code, 'INVALID_WINDOW');
  t.equal((await app.inject('/api/metrics/summary')).json().window, '15m', 'default 15m');
});

t.test('the timeseries has 30 aligned buckets holding the requests and the health samples', async (t) => {
  const app = await build(t, { config: { HEALTH_SAMPLE_MS: 50 } });
  for (let i = 0; i < 5; i++) await app.inject('/api/live');
  const { jobId } = (await submit(app, { idea: IDEA })).json();
  await waitForJob(app, jobId);
  const ts = (await app.inject('/api/metrics/timeseries?window=5m')).json();
  t.equal(ts.bucketMs, 10_000);
  t.equal(ts.buckets.length, 30);
  t.equal(Date.parse(ts.from) % ts.bucketMs, 0, 'aligned to the bucket size');
  const total = ts.buckets.reduce((sum: number, b: any) => sum + b.requests, 0);
  t.ok(total >= 7, `requests counted (${total})`);
  t.ok(
    ts.buckets.some((b: any) => b.rssBytes > 0 && b.queued !== null),
    'memory and queue depth from the health samples',
  );
});

t.test('GET /metrics exposes requests by route pattern, jobs, attempts, failures and live gauges', async (t) => {
  const fake = fakeGemini(t, 'exit41');
  const app = await build(t, { listen: true, config: fake.config, env: fake.env });
  const failed = await waitForJob(app, (await submit(app, { idea: IDEA })).json().jobId);
  t.equal(failed.status, 'failed');
  await app.inject('/api/health');
  await app.inject('/api/live');
  const ws = await WsClient.open(wsUrl(app));
  t.teardown(() => ws.close());

  const res = await app.inject('/metrics');
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const text = res.body;
  t.match(text, /http_request_duration_seconds_count\{method="POST",route="\/api\/generate",status_code="202"\} 1/);
  t.match(
    text,
    /http_request_duration_seconds_count\{method="GET",route="\/api\/job\/:jobId\/status",status_code="200"\} \d+/,
  );
  t.notMatch(text, /route="\/api\/health"/, 'health probes are kept out of the request histogram');
  t.notMatch(text, /route="\/api\/live"/);
  t.match(text, /idea2spec_jobs_finished_total\{status="failed"\} 1/);
  t.match(text, /idea2spec_job_duration_seconds_count\{status="failed"\} 1/);
  t.match(text, /idea2spec_generator_attempts_total\{generator="gemini"\} 1/);
  t.match(text, /idea2spec_generator_failures_total\{generator="gemini",reason="GEMINI_AUTH"\} 1/);
  t.match(text, /idea2spec_websocket_connections 1/);
  t.match(text, /idea2spec_jobs_queued 0/);
  t.match(text, /nodejs_eventloop_lag_p99_seconds/);
  t.match(text, /process_resident_memory_bytes/);
});

t.test('METRICS_ENABLED=false records no response times', async (t) => {
  const app = await build(t, { config: { METRICS_ENABLED: false } });
  await app.inject('/api/live');
  await app.inject('/api/spec/1');
  const summary = (await app.inject('/api/metrics/summary')).json();
  t.same(summary.routes, []);
  t.equal(summary.overall, null);
  t.notMatch((await app.inject('/metrics')).body, /http_request_duration_seconds_count\{/);
});

t.test('buffered response times are written when the app closes', async (t) => {
  const dbFile = join(tempDir(t), 'metrics.db');
  const app = await build(t, { dbFile, config: QUIET });
  for (let i = 0; i < 25; i++) await app.inject('/api/live');
  await app.close();
  const { client } = await openDatabase(`file:${dbFile}`);
  t.teardown(() => client.close());
  const rows = await client.execute("SELECT COUNT(*) AS n FROM performance_metrics WHERE route = '/api/live'");
  t.equal(Number(rows.rows[0].n), 25);
});

t.test('GET /api/jobs/recent lists the latest jobs, newest first, without their text', async (t) => {
  const app = await build(t);
  const first = (await submit(app, { idea: IDEA })).json().jobId;
  await waitForJob(app, first);
  const second = (await submit(app, { idea: `${IDEA}, and ladders` })).json().jobId;
  await waitForJob(app, second);
  const { jobs } = (await app.inject('/api/jobs/recent?limit=5')).json();
  t.same(
    jobs.map((j: any) => j.jobId),
    [second, first],
  );
  t.match(jobs[0], { status: 'completed', generator: 'offline', attempts: 1, errorCode: null });
  t.notOk(JSON.stringify(jobs).includes('neighbours'), 'no idea text');
  t.equal((await app.inject('/api/jobs/recent?limit=0')).statusCode, 400);
});
