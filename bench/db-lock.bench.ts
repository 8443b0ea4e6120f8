/**
 * The database client against another process's write lock (an instance on a shared file, an
 * operator's sqlite3 shell, a backup), in one process, each figure a ratio of a baseline run here:
 *   - the event loop's delay (p99 and max of the gaps between ticks of a 5 ms timer) while writes queue behind a lock held for --hold-ms
 *     by another process, against the same writes with no lock (SQLite waits inside the call, so
 *     before the waits were cut into slices, one write froze the loop for the whole busy timeout);
 *   - the cost of a write through the service's client (lock waits in slices, retried between
 *     tries) against a plain @libsql/client on the same file, in interleaved rounds.
 *
 *   npx tsx bench/db-lock.bench.ts [--hold-ms 3000] [--writes 2000] [--rounds 3]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient, type Client } from '@libsql/client';
import { openDatabase } from '../src/db/client.js';

const { values } = parseArgs({
  options: {
    'hold-ms': { type: 'string', default: '3000' },
    writes: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
  },
});
const holdMs = Number(values['hold-ms']);
const writes = Number(values.writes);
const rounds = Number(values.rounds);
const holder = fileURLToPath(new URL('../test/fixtures/hold-write-lock.mjs', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'idea2spec-bench-lock-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const url = `file:${join(dir, 'bench.db')}`;
const { client } = await openDatabase(url);
const plain = createClient({ url, timeout: 5000 });
// As the service sets each of its connections (the plain client's sequential calls reuse one).
await plain.execute('PRAGMA synchronous = NORMAL');

const INSERT = {
  sql: 'INSERT INTO health_logs (service, status, latency_ms, details, created_at) VALUES (?, ?, NULL, NULL, ?)',
  args: ['bench', 'OK', 1],
};
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(((xs.length - 1) * p) / 100)]!;
const f = (n: number) => n.toFixed(2);

/** Writes every 50 ms for holdMs (the service's own writes: text flushes, health samples), with or without a lock held. */
async function loopDelayWhileWriting(locked: boolean): Promise<{ p99: number; max: number; failed: number }> {
  let release: (() => Promise<void>) | undefined;
  if (locked) {
    const child = spawn(process.execPath, [holder, url, String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(child.stdout, 'data');
    release = async () => {
      if (child.exitCode === null) await once(child, 'exit');
    };
  }
  // The gaps between ticks of a 5 ms timer: a loop frozen for seconds is one gap that long.
  const gaps: number[] = [];
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    gaps.push(Math.max(0, now - last - 5));
    last = now;
  }, 5);
  let failed = 0;
  const pending: Promise<unknown>[] = [];
  const deadline = Date.now() + holdMs;
  while (Date.now() < deadline) {
    pending.push(client.execute(INSERT).catch(() => failed++));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await Promise.all(pending);
  clearInterval(ticker);
  gaps.push(Math.max(0, performance.now() - last - 5));
  await release?.();
  return { p99: percentile(gaps, 99), max: Math.max(...gaps), failed };
}

async function timeWrites(target: Client): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < writes; i++) await target.execute(INSERT);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const free = await loopDelayWhileWriting(false);
const held = await loopDelayWhileWriting(true);
console.log(`loop delay, no lock      : p99 ${f(free.p99)} ms, max ${f(free.max)} ms (${free.failed} writes failed)`);
console.log(
  `loop delay, lock ${holdMs} ms : p99 ${f(held.p99)} ms, max ${f(held.max)} ms (${held.failed} writes failed)`,
);
console.log(`ratios                   : p99 ${f(held.p99 / free.p99)}x, max ${f(held.max / free.max)}x of no lock`);

const service: number[] = [];
const bare: number[] = [];
for (let round = 0; round < rounds; round++) {
  // Order rotated, so neither always runs on a warmer file.
  if (round % 2 === 0) {
    bare.push(await timeWrites(plain));
    service.push(await timeWrites(client));
  } else {
    service.push(await timeWrites(client));
    bare.push(await timeWrites(plain));
  }
}
console.log(
  `${writes} writes          : service client ${f(median(service))} ms, plain client ${f(median(bare))} ms (medians of ${rounds})`,
);
console.log(`ratio                    : ${f(median(service) / median(bare))}x of the plain client`);
plain.close();
client.close();
