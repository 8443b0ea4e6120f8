/**
 * What the monitor reads from /api/health and /api/metrics/summary, reduced to a
 * few figures. Both shapes belong to the service and may change, so every field
 * is looked for rather than assumed; a figure that cannot be found is undefined.
 */
import { round2 } from '../../src/round.js';

export interface RouteFigures {
  route: string;
  count: number;
  errorRate: number | undefined;
  p50: number | undefined;
  p95: number | undefined;
  p99: number | undefined;
}

export interface Sample {
  /** Seconds since the monitor started. */
  t: number;
  /** OK | DEGRADED | DOWN, or why there is none (unreachable, 404…). */
  health: string;
  /** Round trip of GET /api/health as the monitor saw it. */
  probeMs: number | undefined;
  rssMb: number | undefined;
  heapUsedMb: number | undefined;
  requests: number | undefined;
  errorRate: number | undefined;
  p50: number | undefined;
  p95: number | undefined;
  p99: number | undefined;
  routes: RouteFigures[];
}

type Bag = Record<string, unknown>;
const isBag = (v: unknown): v is Bag => typeof v === 'object' && v !== null && !Array.isArray(v);
const MB = 1024 * 1024;

/** The first finite number under any of the keys, also looking one level into `latency`/`durationMs`-like objects. */
function number(bag: Bag, keys: string[]): number | undefined {
  for (const key of keys) {
    const value = bag[key];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  }
  for (const nest of ['latency', 'latencyMs', 'durationMs', 'duration', 'percentiles']) {
    const inner = bag[nest];
    if (isBag(inner)) {
      const found = number(inner, keys);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Memory in MB, whether the service reports bytes (rss) or megabytes (rssMb). */
function megabytes(memory: unknown, name: 'rss' | 'heapUsed'): number | undefined {
  if (!isBag(memory)) return undefined;
  const mb = number(memory, [`${name}Mb`, `${name}MB`, `${name}_mb`]);
  if (mb !== undefined) return round2(mb);
  const bytes = number(memory, [name, `${name}Bytes`, `${name}_bytes`]);
  return bytes === undefined ? undefined : round2(bytes / MB);
}

export function readHealth(body: unknown): Pick<Sample, 'health' | 'rssMb' | 'heapUsedMb'> {
  if (!isBag(body)) return { health: 'no report', rssMb: undefined, heapUsedMb: undefined };
  const memory = isBag(body.system) ? body.system.memory : body.memory;
  return {
    health: typeof body.status === 'string' ? body.status : 'no status',
    rssMb: megabytes(memory, 'rss'),
    heapUsedMb: megabytes(memory, 'heapUsed'),
  };
}

/** Routes from an array, from {routes|data|items|summary: […]}, or from an object keyed by route. */
export function readRoutes(body: unknown): RouteFigures[] {
  const list = Array.isArray(body)
    ? body
    : isBag(body)
      ? ['routes', 'data', 'items', 'summary'].map((k) => body[k]).find(Array.isArray)
      : undefined;
  const entries: Array<[string | undefined, unknown]> = list
    ? list.map((item) => [undefined, item])
    : isBag(body)
      ? Object.entries(isBag(body.routes) ? body.routes : body)
      : [];
  const routes: RouteFigures[] = [];
  for (const [key, item] of entries) {
    if (!isBag(item)) continue;
    const count = number(item, ['count', 'requests', 'total', 'n']);
    if (count === undefined) continue;
    const name = typeof item.route === 'string' ? item.route : typeof item.url === 'string' ? item.url : (key ?? '?');
    const method = typeof item.method === 'string' ? `${item.method} ` : '';
    let errorRate = number(item, ['errorRate', 'error_rate', 'errorsRate']);
    const errors = number(item, ['errors', 'errorCount', 'error_count']);
    if (errorRate === undefined && errors !== undefined && count > 0) errorRate = errors / count;
    // A rate given in percent (e.g. 2.5) is brought to a fraction.
    if (errorRate !== undefined && errorRate > 1) errorRate /= 100;
    routes.push({
      route: `${method}${name}`,
      count,
      errorRate,
      p50: number(item, ['p50', 'p50Ms', 'median']),
      p95: number(item, ['p95', 'p95Ms']),
      p99: number(item, ['p99', 'p99Ms']),
    });
  }
  return routes.sort((a, b) => b.count - a.count);
}

/** The service as a whole: counts add up, p50 is count-weighted, p95/p99 are the worst route's (an upper bound). */
export function overall(routes: RouteFigures[]): Pick<Sample, 'requests' | 'errorRate' | 'p50' | 'p95' | 'p99'> {
  if (routes.length === 0)
    return { requests: undefined, errorRate: undefined, p50: undefined, p95: undefined, p99: undefined };
  const requests = routes.reduce((n, r) => n + r.count, 0);
  const weighted = (pick: (r: RouteFigures) => number | undefined) => {
    const known = routes.filter((r) => pick(r) !== undefined && r.count > 0);
    const weight = known.reduce((n, r) => n + r.count, 0);
    return weight === 0 ? undefined : round2(known.reduce((sum, r) => sum + pick(r)! * r.count, 0) / weight);
  };
  const worst = (pick: (r: RouteFigures) => number | undefined) => {
    const values = routes.map(pick).filter((v): v is number => v !== undefined);
    return values.length ? round2(Math.max(...values)) : undefined;
  };
  return {
    requests,
    errorRate: weighted((r) => r.errorRate),
    p50: weighted((r) => r.p50),
    p95: worst((r) => r.p95),
    p99: worst((r) => r.p99),
  };
}
