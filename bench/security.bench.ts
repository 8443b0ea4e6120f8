/**
 * Cost of the API key check (issue 5). The same read route, GET /api/job/:id/status,
 * under HTTP load (autocannon) on a service
 *  (a) without API_KEY (the baseline),
 *  (b) with API_KEY and the right bearer token,
 *  (c) with API_KEY and a wrong token (the 401 path an attacker takes).
 * Reported: requests per second and p99 latency, as ratios of the baseline.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { buildApp } from '../src/app.js';
import { benchConfig, benchDir } from './service.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const KEY = 'bench-api-key-0123456789abcdef0123456789';

/** A listening service with one finished job to read. */
async function start(apiKey: string | undefined) {
  const dir = benchDir();
  const config = benchConfig(join(dir, 'bench.db'), {
    GENERATOR: 'offline',
    ...(apiKey ? { API_KEY: apiKey } : {}),
  });
  const app = await buildApp({ config });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const accepted = await app.inject({
    method: 'POST',
    url: '/api/generate?wait=true',
    payload: { idea: 'A benchmark idea about shared garden tools' },
    headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
  });
  return {
    url: `${url}/api/job/${accepted.json().jobId}/status`,
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const open = await start(undefined);
const keyedApp = await start(KEY);
const cases = [
  { name: 'no API_KEY (baseline)', url: open.url, authorization: undefined },
  { name: 'API_KEY, right token', url: keyedApp.url, authorization: `Bearer ${KEY}` },
  { name: 'API_KEY, wrong token (401)', url: keyedApp.url, authorization: `Bearer ${KEY.replace(/.$/, 'x')}` },
];
const samples = new Map(cases.map((c) => [c.name, [] as Array<{ rps: number; p99: number; ok: boolean }>]));
// Rounds interleave the cases, so drift in a shared machine's load hits them all alike; the median is reported.
for (let round = 0; round < ROUNDS; round++) {
  for (const c of cases) {
    const r = await autocannon({
      url: c.url,
      connections: 10,
      duration: SECONDS,
      headers: c.authorization ? { authorization: c.authorization } : {},
    });
    const expected = c.name.includes('401') ? r['4xx'] === r.requests.total : r['2xx'] === r.requests.total;
    samples.get(c.name)!.push({ rps: r.requests.average, p99: r.latency.p99, ok: expected && r.errors === 0 });
  }
}
await open.close();
await keyedApp.close();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const figures = cases.map((c) => {
  const s = samples.get(c.name)!;
  return { name: c.name, rps: median(s.map((x) => x.rps)), p99: median(s.map((x) => x.p99)), ok: s.every((x) => x.ok) };
});
const [base] = figures;
console.log(`GET /api/job/:id/status, 10 connections, ${ROUNDS} interleaved rounds of ${SECONDS} s, medians`);
for (const f of figures) {
  console.log(
    `${f.name.padEnd(28)} ${Math.round(f.rps).toString().padStart(7)} req/s  x${(f.rps / base.rps).toFixed(2)}   p99 ${String(f.p99).padStart(4)} ms  x${(f.p99 / Math.max(1, base.p99)).toFixed(2)}${f.ok ? '' : '   UNEXPECTED STATUSES'}`,
  );
}
process.exit(figures.every((f) => f.ok) ? 0 : 1);
