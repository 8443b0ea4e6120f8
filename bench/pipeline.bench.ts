/**
 * Job pipeline overhead (issue 2). A fake CLI that answers at once is run
 *  (a) bare: child_process.spawn, reading its stdout lines, and
 *  (b) through the service: POST /api/generate, followed over a real WebSocket.
 * Reported: jobs per second, and the latency from the CLI writing a line to the
 * reader receiving it (p50/p99), with the service's figures as ratios of the bare ones.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { buildApp } from '../src/app.js';
import { benchConfig, benchDir } from './service.js';

const FAKE = fileURLToPath(new URL('../test/fixtures/fake-gemini.mjs', import.meta.url));
const JOBS = Number(process.env.BENCH_JOBS ?? 60);
const CONCURRENCY = 2;
const STAMPS = 20;
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  GEMINI_FAKE_MODE: 'stamped',
  GEMINI_FAKE_STAMPS: String(STAMPS),
  GEMINI_FAKE_DELAY_MS: '2',
};
const wallNow = () => performance.timeOrigin + performance.now();

function latencyOf(text: string, into: number[]) {
  for (const match of text.matchAll(/t=([0-9.]+)/g)) into.push(wallNow() - Number(match[1]));
}

async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

async function bare(): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  const started = performance.now();
  await pool(
    JOBS,
    CONCURRENCY,
    () =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(FAKE, ['--output-format', 'stream-json'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
        child.stdin.end('prompt');
        let pending = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          pending += chunk;
          const lines = pending.split('\n');
          pending = lines.pop()!;
          for (const line of lines) if (line.includes('"delta":true')) latencyOf(JSON.parse(line).content, latencies);
        });
        child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
      }),
  );
  return { seconds: (performance.now() - started) / 1000, latencies };
}

async function service(): Promise<{ seconds: number; latencies: number[] }> {
  const dir = benchDir();
  const config = benchConfig(join(dir, 'bench.db'), {
    GENERATOR: 'gemini',
    GEMINI_CLI_PATH: FAKE,
    JOB_CONCURRENCY: CONCURRENCY,
    JOB_QUEUE_LIMIT: 10_000,
  });
  const app = await buildApp({ config, generatorEnv: env });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`);
  await new Promise((resolve) => ws.once('open', resolve));
  const latencies: number[] = [];
  const waiting = new Map<string, () => void>();
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.type !== 'job-update') return;
    if (m.delta) latencyOf(m.delta, latencies);
    if (m.status === 'completed' || m.status === 'failed') waiting.get(m.jobId)?.();
  });
  const started = performance.now();
  await pool(JOBS, CONCURRENCY, async (i) => {
    const res = await fetch(`http://127.0.0.1:${port}/api/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ idea: `Benchmark idea number ${i} for the pipeline` }),
    });
    const { jobId } = (await res.json()) as { jobId: string };
    await new Promise<void>((resolve) => {
      waiting.set(jobId, resolve);
      ws.send(JSON.stringify({ type: 'subscribe-job', jobId, afterSeq: 0 }));
    });
  });
  const seconds = (performance.now() - started) / 1000;
  ws.close();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
  return { seconds, latencies };
}

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

// Warm both paths once, then measure alternately so drift on a shared machine hits both.
await bare();
await service();
const runs = {
  bare: [] as Array<Awaited<ReturnType<typeof bare>>>,
  service: [] as Array<Awaited<ReturnType<typeof service>>>,
};
for (let round = 0; round < 2; round++) {
  runs.bare.push(await bare());
  runs.service.push(await service());
}
const summarise = (rs: Array<{ seconds: number; latencies: number[] }>) => {
  const latencies = rs.flatMap((r) => r.latencies);
  const seconds = rs.reduce((s, r) => s + r.seconds, 0);
  return {
    jobsPerSecond: (JOBS * rs.length) / seconds,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    samples: latencies.length,
  };
};
const b = summarise(runs.bare);
const s = summarise(runs.service);
const f = (n: number) => n.toFixed(2);
console.log(`jobs: ${JOBS} x ${runs.bare.length} rounds, concurrency ${CONCURRENCY}, ${STAMPS} lines per job`);
console.log(
  `bare spawn : ${f(b.jobsPerSecond)} jobs/s, line latency p50 ${f(b.p50)} ms, p99 ${f(b.p99)} ms (${b.samples} lines)`,
);
console.log(
  `service    : ${f(s.jobsPerSecond)} jobs/s, line->WebSocket latency p50 ${f(s.p50)} ms, p99 ${f(s.p99)} ms (${s.samples} lines)`,
);
console.log(
  `ratios     : throughput ${f(s.jobsPerSecond / b.jobsPerSecond)}x of bare; latency p50 ${f(s.p50 / b.p50)}x, p99 ${f(s.p99 / b.p99)}x of bare`,
);
