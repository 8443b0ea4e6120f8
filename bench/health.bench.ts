/**
 * GET /api/health of the full service (helmet, CORS, rate limit, request ids,
 * one log line per request, response-time capture) against:
 *   - a bare Fastify route returning the same JSON (target >= 0.5x);
 *   - the same service with METRICS_ENABLED=false (target >= 0.95x).
 * Each server runs in its own process; autocannon drives them over loopback
 * from this one, in interleaved rounds (order rotated). Ratios are of median
 * requests per second, and, because a shared machine's load swings throughput
 * from run to run, also of the server's own CPU time per request, which load
 * on other cores barely moves.
 *
 *   npx tsx bench/health.bench.ts [--seconds 5] [--rounds 3]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pino from 'pino';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

type Mode = 'bare' | 'metrics-on' | 'metrics-off';
const MODES: Mode[] = ['bare', 'metrics-on', 'metrics-off'];
const CONNECTIONS = 10;

async function serve(mode: Mode, dir: string): Promise<void> {
  let app;
  if (mode === 'bare') {
    const body: unknown = JSON.parse(process.env.BENCH_HEALTH_BODY ?? '{}');
    app = Fastify({ logger: false });
    app.get('/api/health', async () => body);
  } else {
    const config = loadConfig(
      {},
      {
        NODE_ENV: 'production',
        LOG_LEVEL: 'info',
        TURSO_DATABASE_URL: `file:${join(dir, `${mode}.db`)}`,
        GENERATOR: 'offline',
        RATE_LIMIT_MAX: 1_000_000_000,
        METRICS_ENABLED: mode === 'metrics-on',
      },
    );
    // Production logging, written where it costs what a file would, but kept out of the bench output.
    app = await buildApp({
      config,
      logger: { level: 'info', stream: pino.destination({ dest: '/dev/null', sync: false }) },
    });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
  process.on('message', () => {
    const { user, system } = process.cpuUsage();
    process.send!(user + system);
  });
}

interface Server {
  child: ChildProcess;
  url: string;
}

function start(mode: Mode, dir: string, env: NodeJS.ProcessEnv = {}): Promise<Server> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', mode, '--dir', dir],
    {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
    },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
    child.stdout!.once('data', (data: Buffer) => {
      const { port } = JSON.parse(data.toString()) as { port: number };
      resolve({ child, url: `http://127.0.0.1:${port}/api/health` });
    });
  });
}

/** The server's CPU time so far, in microseconds. */
function cpuOf(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.child.once('message', (us) => resolve(Number(us)));
    server.child.send('cpu');
  });
}

interface Run {
  rps: number;
  p99: number;
  cpuUsPerRequest: number;
  errors: number;
}

async function load(server: Server, seconds: number): Promise<Run> {
  const cpuBefore = await cpuOf(server);
  const result = await autocannon({ url: server.url, connections: CONNECTIONS, duration: seconds });
  const cpu = (await cpuOf(server)) - cpuBefore;
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    cpuUsPerRequest: cpu / Math.max(1, result.requests.total),
    errors: result.errors + result.non2xx,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' } },
  });
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const dir = mkdtempSync(join(tmpdir(), 'idea2spec-bench-health-'));
  const children: ChildProcess[] = [];
  try {
    const on = await start('metrics-on', dir);
    children.push(on.child);
    const body = await (await fetch(on.url)).text();
    const off = await start('metrics-off', dir);
    children.push(off.child);
    const bare = await start('bare', dir, { BENCH_HEALTH_BODY: body });
    children.push(bare.child);
    const servers: Record<Mode, Server> = { bare, 'metrics-on': on, 'metrics-off': off };

    console.log(`GET /api/health, ${CONNECTIONS} connections, ${seconds} s per run, ${rounds} interleaved rounds`);
    for (const mode of MODES) await load(servers[mode], 1); // warm-up: JIT, connection pools
    const runs: Record<Mode, Run[]> = { bare: [], 'metrics-on': [], 'metrics-off': [] };
    for (let round = 0; round < rounds; round++) {
      const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]);
      for (const mode of order) {
        const run = await load(servers[mode], seconds);
        runs[mode].push(run);
        console.log(
          `  round ${round + 1}  ${mode.padEnd(12)} ${run.rps.toFixed(0).padStart(7)} req/s   p99 ${run.p99} ms   ${run.cpuUsPerRequest.toFixed(1)} µs CPU/req${run.errors ? `   ${run.errors} errors` : ''}`,
        );
      }
    }

    const rps = (mode: Mode) => median(runs[mode].map((r) => r.rps));
    const cpu = (mode: Mode) => median(runs[mode].map((r) => r.cpuUsPerRequest));
    console.log('\nmedians:');
    for (const mode of MODES)
      console.log(
        `  ${mode.padEnd(12)} ${rps(mode).toFixed(0).padStart(7)} req/s   p99 ${median(runs[mode].map((r) => r.p99))} ms   ${cpu(mode).toFixed(1)} µs CPU/req`,
      );
    const ratios = [
      {
        name: 'full service / bare Fastify route',
        throughput: rps('metrics-on') / rps('bare'),
        cpu: cpu('bare') / cpu('metrics-on'),
        target: 0.5,
      },
      {
        name: 'metrics on / metrics off',
        throughput: rps('metrics-on') / rps('metrics-off'),
        cpu: cpu('metrics-off') / cpu('metrics-on'),
        target: 0.95,
      },
    ];
    console.log('\nratios (throughput; inverse CPU per request):');
    for (const r of ratios) {
      const verdict = (x: number) => (x >= r.target ? 'met' : 'NOT met');
      console.log(
        `  ${r.name.padEnd(36)} ${r.throughput.toFixed(2)}x (${verdict(r.throughput)});  CPU ${r.cpu.toFixed(2)}x (${verdict(r.cpu)});  target >= ${r.target}x`,
      );
    }
    const errors = MODES.reduce((n, m) => n + runs[m].reduce((e, r) => e + r.errors, 0), 0);
    if (errors > 0) {
      console.error(`${errors} failed requests`);
      process.exitCode = 1;
    }
  } finally {
    await Promise.all(
      children.map(
        (c) =>
          new Promise((resolve) =>
            c.exitCode !== null ? resolve(null) : (c.once('exit', resolve), c.kill('SIGTERM')),
          ),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}

const { values: role } = parseArgs({ options: { serve: { type: 'string' }, dir: { type: 'string' } }, strict: false });
if (typeof role.serve === 'string') await serve(role.serve as Mode, String(role.dir));
else await main();
