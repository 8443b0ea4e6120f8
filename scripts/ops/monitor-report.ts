import type { Sample } from './monitor-sample.js';
import { svgChart } from './svg-chart.js';

export interface MonitorRun {
  url: string;
  window: string;
  startedAt: Date;
  samples: Sample[];
  /** Why an endpoint gave nothing, e.g. "GET /api/metrics/summary: 404 ROUTE_NOT_FOUND". */
  notes: string[];
}

type Figure = 'probeMs' | 'p50' | 'p95' | 'p99' | 'rssMb' | 'heapUsedMb' | 'requests';

const LABELS: Record<Figure, string> = {
  probeMs: 'health round trip (ms)',
  p50: 'server p50 (ms)',
  p95: 'server p95, worst route (ms)',
  p99: 'server p99, worst route (ms)',
  rssMb: 'RSS (MB)',
  heapUsedMb: 'heap used (MB)',
  requests: `requests in window`,
};

export function chart(run: MonitorRun): string {
  const series = (name: string, color: string, pick: (s: Sample) => number | undefined) => ({
    name,
    color,
    points: run.samples.map((s) => [s.t, pick(s)] as [number, number | undefined]),
  });
  return svgChart([
    {
      title: 'Latency',
      unit: 'ms',
      series: [
        series('server p95', '#d1495b', (s) => s.p95),
        series('server p50', '#00798c', (s) => s.p50),
        series('health round trip', '#edae49', (s) => s.probeMs),
      ],
    },
    {
      title: 'Memory',
      unit: 'MB',
      series: [series('RSS', '#30638e', (s) => s.rssMb), series('heap used', '#66a182', (s) => s.heapUsedMb)],
    },
  ]);
}

export function markdown(run: MonitorRun, chartFile: string): string {
  const { samples } = run;
  const last = samples.at(-1);
  const statuses = countBy(samples.map((s) => s.health));
  const rows = (Object.keys(LABELS) as Figure[]).map((figure) => {
    const values = samples.map((s) => s[figure]).filter((v): v is number => v !== undefined);
    if (values.length === 0) return `| ${LABELS[figure]} | – | – | – | – |`;
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    return `| ${LABELS[figure]} | ${fmt(Math.min(...values))} | ${fmt(mean)} | ${fmt(Math.max(...values))} | ${fmt(values.at(-1)!)} |`;
  });
  const lines = [
    `# idea2spec monitor report`,
    '',
    `- Service: ${run.url}`,
    `- Started: ${run.startedAt.toISOString()}, ${samples.length} samples over ${fmt(last?.t ?? 0)} s`,
    `- Health: ${
      Object.entries(statuses)
        .map(([status, n]) => `${status} ×${n}`)
        .join(', ') || 'no sample'
    }`,
    `- Metrics window: ${run.window}`,
    '',
    `![latency and memory over time](${chartFile})`,
    '',
    '| figure | min | mean | max | last |',
    '|---|---|---|---|---|',
    ...rows,
  ];
  if (last && last.routes.length > 0) {
    lines.push(
      '',
      `## Routes (last sample, window ${run.window})`,
      '',
      '| route | count | error rate | p50 ms | p95 ms | p99 ms |',
      '|---|---|---|---|---|---|',
    );
    for (const r of last.routes)
      lines.push(
        `| \`${r.route}\` | ${r.count} | ${r.errorRate === undefined ? '–' : `${fmt(r.errorRate * 100)} %`} | ${opt(r.p50)} | ${opt(r.p95)} | ${opt(r.p99)} |`,
      );
  }
  if (run.notes.length > 0) lines.push('', '## Notes', '', ...run.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

const fmt = (n: number) => String(Math.round(n * 10) / 10);
const opt = (n: number | undefined) => (n === undefined ? '–' : fmt(n));

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
