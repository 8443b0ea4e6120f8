import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { baseUrl, build, tempDir } from './helper.js';
import { freePort } from './free-port.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Runs an operator script exactly as `npm run …` does (tsx), and collects what it printed. */
function runScript(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', script), ...args], {
      cwd: ROOT,
      env: { ...process.env, IDEA2SPEC_URL: '', IDEA2SPEC_API_KEY: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

t.test('load: HTTP load and WebSocket subscribers against a running service, as JSON', async (t) => {
  const app = await build(t, { listen: true });
  const run = await runScript('load.ts', [
    '--url',
    baseUrl(app),
    '--path',
    '/api/docs/json',
    '--concurrency',
    '3',
    '--requests',
    '30',
    '--ws',
    '5',
    '--json',
  ]);
  t.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  t.equal(report.ok, true);
  t.equal(report.http.requests, 30);
  t.same(report.http.statusCodes, { 200: 30 });
  t.ok(report.http.requestsPerSecond > 0);
  t.ok(
    report.http.latencyMs.p50 <= report.http.latencyMs.p95 && report.http.latencyMs.p95 <= report.http.latencyMs.p99,
  );
  t.equal(report.ws.subscribers, 5);
  t.equal(report.ws.errors, 0, report.ws.problems.join('\n'));
  const job = await app.inject({ method: 'GET', url: `/api/job/${report.ws.jobId}/status` });
  t.equal(report.ws.eventsReceived, 5 * job.json().seq, 'every subscriber saw every event of the job');
});

t.test('load: failed requests make it exit non-zero, with a readable table', async (t) => {
  const app = await build(t, { listen: true });
  const run = await runScript('load.ts', [
    '--url',
    baseUrl(app),
    '--path',
    '/api/no-such-route',
    '--concurrency',
    '2',
    '--requests',
    '10',
  ]);
  t.equal(run.code, 1);
  t.match(run.stdout, /404×10/);
  t.match(run.stdout, /FAILED: 10 error/);
});

t.test('monitor: samples the service, shows each sample, writes a Markdown report and an SVG chart', async (t) => {
  const app = await build(t, { listen: true });
  const out = tempDir(t);
  const run = await runScript('monitor.ts', [
    '--url',
    baseUrl(app),
    '--seconds',
    '1',
    '--interval',
    '0.25',
    '--out',
    out,
  ]);
  t.equal(run.code, 0, run.stderr);
  const shown = run.stdout.split('\n').filter((line) => line.startsWith('['));
  t.ok(shown.length >= 2, 'a line per sample while it runs');
  t.match(run.stdout, /round trip \d/);

  const report = readFileSync(join(out, 'report.md'), 'utf8');
  t.match(report, /# idea2spec monitor report/);
  t.match(report, new RegExp(`${shown.length} samples`));
  t.match(report, /!\[latency and memory over time\]\(latency-memory\.svg\)/);
  t.match(report, /\| health round trip \(ms\) \| \d/);
  const svg = readFileSync(join(out, 'latency-memory.svg'), 'utf8');
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.match(svg, /Latency \(ms\)[\s\S]*Memory \(MB\)/);
  t.match(svg, /<polyline [^>]*points="[\d., ]+"/, 'the round trip drawn as a line');
});

t.test('both tools: --help, and a clear failure when the service is not reachable', async (t) => {
  const nobody = `http://127.0.0.1:${await freePort()}`;
  for (const [script, extra] of [
    ['load.ts', ['--requests', '1']],
    ['monitor.ts', ['--seconds', '1']],
  ] as const) {
    const help = await runScript(script, ['--help']);
    t.equal(help.code, 0);
    t.match(help.stdout, /^Usage: npm run (load|monitor) -- \[options\]/);

    const down = await runScript(script, ['--url', nobody, ...extra]);
    t.equal(down.code, 2, `${script} exits 2`);
    t.match(down.stderr, `idea2spec is not reachable at ${nobody}`);
    t.match(down.stderr, /ECONNREFUSED/);
  }
});
