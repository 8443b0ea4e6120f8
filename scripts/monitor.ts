/**
 * `npm run monitor -- --seconds 120 [--url …]`
 * Samples /api/health and /api/metrics/summary of a running idea2spec, shows the
 * figures live while it runs, and writes a Markdown report with an SVG chart of
 * latency and memory over time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, ConnectionError, type Idea2SpecClient } from '../src/client/index.js';
import { parseCommandLine, positive, reachableClient } from './ops/command-line.js';
import { chart, markdown, type MonitorRun } from './ops/monitor-report.js';
import { overall, readHealth, readRoutes, type Sample } from './ops/monitor-sample.js';

const USAGE = `Usage: npm run monitor -- [options]

Watches a running idea2spec service and writes a report when done.

  --url URL        the service (default http://localhost:3001, or IDEA2SPEC_URL)
  --seconds N      how long to watch (default 120; Ctrl-C stops early and still writes the report)
  --interval S     seconds between samples (default 2)
  --window W       window of /api/metrics/summary, e.g. 5m, 15m (default 15m)
  --out DIR        where the report goes (default reports/monitor-<time>)
  --api-key KEY    when the service requires API_KEY (or IDEA2SPEC_API_KEY)
  -h, --help       this text

Writes DIR/report.md and DIR/latency-memory.svg. Exits 0 when every sample reached
the service, 1 when it stopped answering during the run, 2 when it is not
reachable at the start or an option is wrong.`;

const args = parseCommandLine(USAGE, {
  url: { type: 'string', default: process.env.IDEA2SPEC_URL || 'http://localhost:3001' },
  seconds: { type: 'string', default: '120' },
  interval: { type: 'string', default: '2' },
  window: { type: 'string', default: '15m' },
  out: { type: 'string' },
  'api-key': { type: 'string', default: process.env.IDEA2SPEC_API_KEY || undefined },
  help: { type: 'boolean', short: 'h' },
});

const durationMs = positive('seconds', args.seconds, { integer: false }) * 1000;
const intervalMs = positive('interval', args.interval, { integer: false }) * 1000;
const startedAt = new Date();
const outDir = resolve(args.out ?? join('reports', `monitor-${startedAt.toISOString().replace(/[:.]/g, '-')}`));

const client = await reachableClient(args.url, args['api-key']);
const run: MonitorRun = { url: args.url, window: args.window, startedAt, samples: [], notes: [] };
const notes = new Set<string>();
const tty = process.stdout.isTTY === true;
let drawnLines = 0;
let stopping = false;
process.once('SIGINT', () => (stopping = true));

const start = performance.now();
while (!stopping) {
  const due = start + run.samples.length * intervalMs;
  if (due - start > durationMs) break;
  await sleep(Math.max(0, due - performance.now()));
  const sample = await takeSample(client, (performance.now() - start) / 1000);
  run.samples.push(sample);
  show(sample);
}
client.close();

run.notes = [...notes];
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'latency-memory.svg'), chart(run));
writeFileSync(join(outDir, 'report.md'), markdown(run, 'latency-memory.svg'));
const lost = run.samples.filter((s) => s.health === 'unreachable').length;
process.stdout.write(
  `\nReport: ${join(outDir, 'report.md')} (${run.samples.length} samples${lost ? `, ${lost} with the service unreachable` : ''})\n`,
);
process.exitCode = lost > 0 ? 1 : 0;

async function takeSample(client: Idea2SpecClient, t: number): Promise<Sample> {
  const probeStart = performance.now();
  const [health, summary] = await Promise.allSettled([client.health(), client.metricsSummary(args.window)]);
  const probeMs = Math.round((performance.now() - probeStart) * 10) / 10;
  const reached = !(health.status === 'rejected' && health.reason instanceof ConnectionError);
  const routes = summary.status === 'fulfilled' ? readRoutes(summary.value) : [];
  if (health.status === 'rejected') notes.add(`GET /api/health: ${why(health.reason)}`);
  if (summary.status === 'rejected') notes.add(`GET /api/metrics/summary: ${why(summary.reason)}`);
  return {
    t: Math.round(t * 10) / 10,
    ...(health.status === 'fulfilled'
      ? readHealth(health.value)
      : { health: reached ? why(health.reason) : 'unreachable', rssMb: undefined, heapUsedMb: undefined }),
    probeMs: reached ? probeMs : undefined,
    ...overall(routes),
    routes,
  };
}

function why(err: unknown): string {
  if (err instanceof ApiError) return `HTTP ${err.status} ${err.code}`;
  return err instanceof Error ? err.message : String(err);
}

/** On a terminal the block is redrawn in place; piped output gets one line per sample. */
function show(s: Sample): void {
  const value = (n: number | undefined, unit: string) => (n === undefined ? '–' : `${n}${unit}`);
  const figures = `health ${s.health} · round trip ${value(s.probeMs, ' ms')} · rss ${value(s.rssMb, ' MB')} · heap ${value(s.heapUsedMb, ' MB')} · requests ${value(s.requests, '')} · errors ${s.errorRate === undefined ? '–' : `${Math.round(s.errorRate * 1000) / 10} %`} · p50 ${value(s.p50, ' ms')} · p95 ${value(s.p95, ' ms')} · p99 ${value(s.p99, ' ms')}`;
  if (!tty) {
    process.stdout.write(`[${s.t.toFixed(1)} s] ${figures}\n`);
    return;
  }
  const share = Math.min(1, (s.t * 1000) / durationMs);
  const bar = `${'█'.repeat(Math.round(share * 30))}${'░'.repeat(30 - Math.round(share * 30))}`;
  const lines = [
    `idea2spec monitor · ${args.url} · window ${args.window}`,
    `${bar} ${Math.round(share * 100)} % · ${s.t.toFixed(0)} of ${durationMs / 1000} s · ${run.samples.length} samples`,
    ...figures
      .split(' · ')
      .reduce<string[]>(
        (rows, f, i) => (i % 4 === 0 ? [...rows, f] : [...rows.slice(0, -1), `${rows.at(-1)} · ${f}`]),
        [],
      ),
    ...s.routes
      .slice(0, 5)
      .map((r) => `  ${r.route.padEnd(36)} ${String(r.count).padStart(7)}  p95 ${value(r.p95, ' ms')}`),
  ];
  process.stdout.write(
    `${drawnLines ? `\x1b[${drawnLines}A` : ''}${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n\x1b[J`,
  );
  drawnLines = lines.length;
}
