/**
 * A long spec streaming in Chinese against the same in English (issue 9, item 1).
 * A fake CLI writes a spec of the given length at a steady rate; while it streams,
 * and for a second after it ends (the finished spec is indexed then), another process
 * (bench/steady-poll.mjs) asks for the job's status 50 times a second on a fixed
 * timetable, as a page polling fast would (the liveness probe beyond 100,000
 * characters, see pollPath), and the event loop's delay is sampled. Reported:
 * event-loop delay p99 and max, status-poll p99 and max, each for Chinese and English
 * and as the ratio Chinese / English (target: within 2×). Russian is run too: it is
 * not ASCII either, and shows what any such text costs SQLite's unicode61 tokenizer
 * (ideas_fts), apart from what is particular to scripts written without spaces.
 * English is the baseline, measured in the same run; the languages take turns, so
 * load from elsewhere hits all of them.
 *
 *   npx tsx bench/cjk-stream.bench.ts     (or npm run bench -- cjk)
 *   BENCH_STREAM_CHARS=1000000 BENCH_ROUNDS=5 npx tsx bench/cjk-stream.bench.ts
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
const POLLER = fileURLToPath(new URL('./steady-poll.mjs', import.meta.url));
const STREAM_SECONDS = Number(process.env.BENCH_STREAM_SECONDS ?? 10);
const CHUNKS = 100;
/** Milliseconds between two status polls: a page polling fast, not a load test. */
const POLL_EVERY_MS = 20;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
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
const RU =
  'Система должна позволять владельцам собак зарегистрироваться меньше чем за минуту и находить партнёров для прогулок рядом. Пользователь получает уведомление, когда меняется то, за чем он следит. Данные шифруются при передаче и хранении.\n';
const SENTENCES = { zh: ZH, en: EN, ru: RU };
const IDEAS = {
  zh: '一个帮助宠物主人寻找遛狗伙伴的手机应用',
  en: 'A mobile app that helps dog owners find walking partners',
  ru: 'Мобильное приложение, которое помогает владельцам собак находить партнёров для прогулок',
};
type Language = keyof typeof SENTENCES;
const textOf = (sentence: string, chars: number) => sentence.repeat(Math.ceil(chars / sentence.length)).slice(0, chars);

interface Result {
  loopP99: number;
  loopMax: number;
  pollP99: number;
  pollMax: number;
  polls: number;
  seconds: number;
}

async function stream(language: Language, chars: number): Promise<Result> {
  const dir = benchDir();
  const file = join(dir, 'spec.md');
  writeFileSync(file, textOf(SENTENCES[language], chars));
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
    const started = performance.now();
    const res = await fetch(`${base}/api/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ idea: IDEAS[language] }),
    });
    const { jobId } = (await res.json()) as { jobId: string };
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    // The stream, and a second after it for the indexing of the finished spec.
    const { stdout } = await run(process.execPath, [
      POLLER,
      `${base}${pollPath(chars, jobId)}`,
      String(STREAM_SECONDS + 2),
      String(POLL_EVERY_MS),
    ]);
    loop.disable();
    const status = (await (await fetch(`${base}/api/job/${jobId}/status`)).json()) as {
      status: string;
      progress: { chars: number };
    };
    if (status.status !== 'completed')
      throw new Error(`${language} ${chars}: the job is ${status.status} after the stream`);
    if (status.progress.chars !== chars)
      throw new Error(`${language} ${chars}: ${status.progress.chars} characters streamed`);
    const polls = JSON.parse(stdout) as { count: number; errors: number; p99: number; max: number };
    if (polls.errors > 0) throw new Error(`${polls.errors} status polls failed`);
    return {
      loopP99: loop.percentile(99) / 1e6,
      loopMax: loop.max / 1e6,
      pollP99: polls.p99,
      pollMax: polls.max,
      polls: polls.count,
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
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`.padStart(8);
const NAMES = { en: 'English', zh: 'Chinese', ru: 'Russian' };
console.log(
  `A spec streamed over ${STREAM_SECONDS} s in ${CHUNKS} deltas, status polled every ${POLL_EVERY_MS} ms; ${ROUNDS} rounds, the languages by turns; milliseconds (p99: median of rounds, max: of all)\n`,
);
console.log(
  `${'spec'.padEnd(26)} ${'loop p99'.padStart(8)} ${'loop max'.padStart(8)} ${'poll p99'.padStart(8)} ${'poll max'.padStart(8)} ${'polls'.padStart(6)} ${'job s'.padStart(6)}`,
);
const sizes = (process.env.BENCH_STREAM_CHARS ?? '100000,1000000').split(',').map(Number);
let failed = false;
for (const chars of sizes) {
  const runs: Record<Language, Result[]> = { en: [], zh: [], ru: [] };
  for (let round = 0; round < ROUNDS; round++)
    for (const language of ['en', 'zh', 'ru'] as const) runs[language].push(await stream(language, chars));
  const r = { en: merge(runs.en), zh: merge(runs.zh), ru: merge(runs.ru) };
  console.log(`polling ${pollPath(chars, ':jobId')}`);
  for (const language of ['en', 'zh', 'ru'] as const) {
    const m = r[language];
    console.log(
      `${`${NAMES[language]}, ${chars.toLocaleString('en')} chars`.padEnd(26)} ${f(m.loopP99)}  ${f(m.loopMax)}  ${f(m.pollP99)}  ${f(m.pollMax)}  ${String(m.polls).padStart(6)} ${m.seconds.toFixed(1).padStart(6)}`,
    );
  }
  const met = r.zh.loopP99 / r.en.loopP99 <= 2 && r.zh.pollP99 / r.en.pollP99 <= 2;
  if (!met) failed = true;
  for (const [name, a, b] of [
    ['Chinese / English', r.zh, r.en],
    ['Russian / English', r.ru, r.en],
    ['Chinese / Russian', r.zh, r.ru],
  ] as const)
    console.log(
      `${name.padEnd(26)} ${ratio(a.loopP99, b.loopP99)}  ${ratio(a.loopMax, b.loopMax)}  ${ratio(a.pollP99, b.pollP99)}  ${ratio(a.pollMax, b.pollMax)}${name === 'Chinese / English' ? `   target (p99s) within 2×: ${met ? 'met' : 'NOT met'}` : ''}`,
    );
  console.log();
}
if (failed) process.exitCode = 1;
