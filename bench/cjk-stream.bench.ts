/**
 * A long spec streaming in Chinese against the same in English (issue 9, item 1).
 * A fake CLI writes a spec of the given length at a steady rate; while it streams,
 * and for a second after it ends (the finished spec is indexed then), the service
 * is asked for the job's status over HTTP by autocannon in another process at a
 * poll-like rate (the liveness probe beyond 100,000 characters, see pollPath), and
 * the event loop's delay is sampled. Reported: event-loop delay
 * p99 and max, status-poll p99 and max, each for Chinese and English and as the
 * ratio Chinese / English (target: within 2×). The English run is the baseline,
 * measured in the same run; the two alternate, so load from elsewhere hits both.
 *
 *   npx tsx bench/cjk-stream.bench.ts     (or npm run bench -- cjk)
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildApp } from '../src/app.js';
import { benchConfig, benchDir } from './service.js';

const FAKE = fileURLToPath(new URL('../test/fixtures/fake-gemini.mjs', import.meta.url));
const AUTOCANNON = fileURLToPath(new URL('../node_modules/autocannon/autocannon.js', import.meta.url));
const STREAM_SECONDS = Number(process.env.BENCH_STREAM_SECONDS ?? 10);
const CHUNKS = 100;
/** Status polls per second (one connection): a browser polling fast, not a load test. */
const POLL_RATE = 50;
const ROUNDS = 2;
const run = promisify(execFile);
/**
 * What is polled: the job's status up to 100,000 characters, as the issue asks. Beyond,
 * the liveness probe: a status answer carries the whole text (3 MB of UTF-8 at
 * 1,000,000 Chinese characters, 1 MB in English), and encoding it 50 times a second
 * would measure the size of the answer, not whether the server stalls.
 */
const pollPath = (chars: number, jobId: string) => (chars <= 100_000 ? `/api/job/${jobId}/status` : '/api/live');

const ZH =
  '系统必须让宠物主人在一分钟内完成注册，并立即开始寻找附近的遛狗伙伴。当用户关注的内容发生变化时会收到通知，并且可以逐项关闭。数据在传输和存储时均加密；用户可以导出或删除自己的全部数据。\n';
const EN =
  'The system must let dog owners sign up in under a minute and find walking partners nearby. Users are notified when something they follow changes. Data is encrypted in transit and at rest.\n';
const textOf = (sentence: string, chars: number) => sentence.repeat(Math.ceil(chars / sentence.length)).slice(0, chars);

interface Result {
  loopP99: number;
  loopMax: number;
  pollP99: number;
  pollMax: number;
  polls: number;
  seconds: number;
}

async function stream(language: 'zh' | 'en', chars: number): Promise<Result> {
  const dir = benchDir();
  const file = join(dir, 'spec.md');
  writeFileSync(file, textOf(language === 'zh' ? ZH : EN, chars));
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GEMINI_FAKE_MODE: 'text-file',
    GEMINI_FAKE_TEXT_FILE: file,
    GEMINI_FAKE_CHUNK_CHARS: String(Math.ceil(chars / CHUNKS)),
    GEMINI_FAKE_DELAY_MS: String(Math.round((STREAM_SECONDS * 1000) / CHUNKS)),
  };
  const config = benchConfig(join(dir, 'bench.db'), { GENERATOR: 'gemini', GEMINI_CLI_PATH: FAKE });
  const app = await buildApp({ config, generatorEnv: env });
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const idea =
      language === 'zh'
        ? '一个帮助宠物主人寻找遛狗伙伴的手机应用'
        : 'A mobile app that helps dog owners find walking partners';
    const started = performance.now();
    const res = await fetch(`${base}/api/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ idea }),
    });
    const { jobId } = (await res.json()) as { jobId: string };
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    // The stream, and a second after it for the indexing of the finished spec.
    const { stdout } = await run(
      process.execPath,
      [
        AUTOCANNON,
        '-c',
        '1',
        '-R',
        String(POLL_RATE),
        '-d',
        String(STREAM_SECONDS + 2),
        '-j',
        `${base}${pollPath(chars, jobId)}`,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    loop.disable();
    const status = (await (await fetch(`${base}/api/job/${jobId}/status`)).json()) as {
      status: string;
      progress: { chars: number };
    };
    if (status.status !== 'completed')
      throw new Error(`${language} ${chars}: the job is ${status.status} after the stream`);
    if (status.progress.chars !== chars)
      throw new Error(`${language} ${chars}: ${status.progress.chars} characters streamed`);
    const polls = JSON.parse(stdout) as {
      latency: { p99: number; max: number };
      requests: { total: number };
      non2xx: number;
    };
    if (polls.non2xx > 0) throw new Error(`${polls.non2xx} status polls failed`);
    return {
      loopP99: loop.percentile(99) / 1e6,
      loopMax: loop.max / 1e6,
      pollP99: polls.latency.p99,
      pollMax: polls.latency.max,
      polls: polls.requests.total,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const merge = (rs: Result[]): Result => ({
  loopP99: median(rs.map((r) => r.loopP99)),
  loopMax: Math.max(...rs.map((r) => r.loopMax)),
  pollP99: median(rs.map((r) => r.pollP99)),
  pollMax: Math.max(...rs.map((r) => r.pollMax)),
  polls: rs.reduce((n, r) => n + r.polls, 0),
  seconds: median(rs.map((r) => r.seconds)),
});

const f = (n: number) => n.toFixed(1).padStart(7);
console.log(
  `A spec streamed over ${STREAM_SECONDS} s in ${CHUNKS} deltas, status polled ${POLL_RATE}/s; ${ROUNDS} rounds, alternating; milliseconds (p99: median of rounds, max: of all)\n`,
);
console.log(
  `${'spec'.padEnd(26)} ${'loop p99'.padStart(8)} ${'loop max'.padStart(8)} ${'poll p99'.padStart(8)} ${'poll max'.padStart(8)} ${'polls'.padStart(6)} ${'job s'.padStart(6)}`,
);
const sizes = (process.env.BENCH_STREAM_CHARS ?? '100000,1000000').split(',').map(Number);
let failed = false;
for (const chars of sizes) {
  const runs = { zh: [] as Result[], en: [] as Result[] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.en.push(await stream('en', chars));
    runs.zh.push(await stream('zh', chars));
  }
  const zh = merge(runs.zh);
  const en = merge(runs.en);
  console.log(`polling ${pollPath(chars, ':jobId')}`);
  for (const [name, r] of [
    [`English, ${chars.toLocaleString('en')} chars`, en],
    [`Chinese, ${chars.toLocaleString('en')} chars`, zh],
  ] as const) {
    console.log(
      `${name.padEnd(26)} ${f(r.loopP99)}  ${f(r.loopMax)}  ${f(r.pollP99)}  ${f(r.pollMax)}  ${String(r.polls).padStart(6)} ${r.seconds.toFixed(1).padStart(6)}`,
    );
  }
  const loopRatio = zh.loopP99 / en.loopP99;
  const pollRatio = zh.pollP99 / Math.max(en.pollP99, 1);
  const met = loopRatio <= 2 && pollRatio <= 2;
  if (chars === 100_000 && !met) failed = true;
  console.log(
    `${'Chinese / English'.padEnd(26)} ${`${loopRatio.toFixed(2)}×`.padStart(8)}  ${''.padStart(8)}  ${`${pollRatio.toFixed(2)}×`.padStart(8)}   target within 2×: ${met ? 'met' : 'NOT met'}\n`,
  );
}
console.log(
  "poll p99 is autocannon's, whose latencies are whole milliseconds: an English p99 under 1 ms counts as 1 ms in the ratio.",
);
if (failed) process.exitCode = 1;
