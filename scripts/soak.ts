/**
 * `npm run soak -- --seconds 60 [--subscribers 500] [--generator fake|offline]`
 *
 * Runs the service as a real process and, for the given time, at once: HTTP load
 * (autocannon), WebSocket subscribers that follow every job, and a steady stream
 * of jobs. Reports errors (target 0), dropped or duplicated job events per
 * subscriber (target 0) and the server's RSS at start, after warm-up and at the
 * end (target: under 10% growth after warm-up). Exits 1 when a target is missed.
 */
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { isTerminal } from '../src/jobs/transitions.js';
import { ServerProcess } from '../test/fixtures/server-process.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    subscribers: { type: 'string', default: '500' },
    generator: { type: 'string', default: 'fake' },
    'jobs-per-second': { type: 'string', default: '1' },
  },
});
const seconds = Number(values.seconds);
const subscriberCount = Number(values.subscribers);
const jobsPerSecond = Number(values['jobs-per-second']);

const dir = mkdtempSync(join(tmpdir(), 'idea2spec-soak-'));
const fakeCli = new URL('../test/fixtures/fake-gemini.mjs', import.meta.url).pathname;
const generatorEnv: NodeJS.ProcessEnv =
  values.generator === 'offline'
    ? { GENERATOR: 'offline' }
    : {
        GENERATOR: 'gemini',
        GEMINI_CLI_PATH: fakeCli,
        GEMINI_FAKE_MODE: 'ok',
        GEMINI_FAKE_DELAY_MS: '40',
        GEMINI_FAKE_CHUNKS: JSON.stringify(Array.from({ length: 20 }, (_, i) => `Paragraph ${i}. `.repeat(8))),
      };

const server = await ServerProcess.start({
  NODE_ENV: 'production',
  TURSO_DATABASE_URL: `file:${join(dir, 'soak.db')}`,
  RATE_LIMIT_MAX: '100000000',
  GENERATE_RATE_LIMIT_MAX: '100000000',
  JOB_CONCURRENCY: '4',
  JOB_QUEUE_LIMIT: '10000',
  WS_MAX_CONNECTIONS: String(subscriberCount + 100),
  WS_MAX_CONNECTIONS_PER_CLIENT: String(subscriberCount + 100),
  ...generatorEnv,
});
const wsUrl = `${server.url.replace('http', 'ws')}/api/ws`;

const rssMb = () => {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))?.[1]);
  return Math.round((kb / 1024) * 10) / 10;
};

const errors: string[] = [];
const error = (what: string) => {
  if (errors.length < 20) console.error(`  ! ${what}`);
  errors.push(what);
};

// One job that exists before the load starts, for the read traffic.
const seed = await server.request('POST', '/api/generate?wait=true', {
  idea: 'A soak-test idea: a shared shopping list for a household',
});
if (seed.status !== 200) throw new Error(`seed job: ${seed.status}`);

/** Every subscriber follows every job from seq 0 and checks the sequence it gets. */
interface Subscriber {
  socket: WebSocket;
  seqs: Map<string, number[]>;
}
const subscribers: Subscriber[] = [];
const jobIds: string[] = [];
const tally = { events: 0, dropped: 0, duplicated: 0, incomplete: 0, unexpectedCloses: 0, errorFrames: 0 };

async function openSubscriber(): Promise<Subscriber> {
  const socket = new WebSocket(wsUrl);
  const sub: Subscriber = { socket, seqs: new Map() };
  socket.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.type === 'job-update') {
      tally.events++;
      sub.seqs.get(m.jobId)?.push(m.seq);
      if (isTerminal(m.status)) socket.send(JSON.stringify({ type: 'unsubscribe-job', jobId: m.jobId }));
    } else if (m.type === 'error') {
      tally.errorFrames++;
      error(`websocket error frame: ${m.code} ${m.message}`);
    }
  });
  socket.on('close', (code) => {
    if (!stopping) {
      tally.unexpectedCloses++;
      error(`websocket closed unexpectedly: ${code}`);
    }
  });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return sub;
}

let stopping = false;
const rss = { start: rssMb(), warm: 0, end: 0, peak: 0 };
console.log(
  `soak: ${seconds} s, ${subscriberCount} WebSocket subscribers, ${jobsPerSecond} job/s (${values.generator} generator), server pid ${server.child.pid}, RSS at start ${rss.start} MB`,
);

for (let i = 0; i < subscriberCount; i += 50) {
  subscribers.push(...(await Promise.all(Array.from({ length: Math.min(50, subscriberCount - i) }, openSubscriber))));
}

let submitted = 0;
const submitTimer = setInterval(async () => {
  submitted++;
  try {
    const res = await server.request('POST', '/api/generate', {
      idea: `Soak idea number ${submitted}: a booking app for shared workshop tools`,
    });
    if (res.status !== 202) return error(`POST /api/generate -> ${res.status}`);
    const { jobId } = res.body;
    jobIds.push(jobId);
    for (const sub of subscribers) {
      sub.seqs.set(jobId, []);
      sub.socket.send(JSON.stringify({ type: 'subscribe-job', jobId, afterSeq: 0 }));
    }
  } catch (err) {
    error(`POST /api/generate failed: ${(err as Error).message}`);
  }
}, 1000 / jobsPerSecond);

const warmUpAt = Math.max(5, Math.round(seconds * 0.25));
let elapsed = 0;
const sampler = setInterval(() => {
  elapsed++;
  const now = rssMb();
  rss.peak = Math.max(rss.peak, now);
  if (elapsed === warmUpAt) rss.warm = now;
}, 1000);

const http = await autocannon({
  url: server.url,
  connections: 16,
  duration: seconds,
  requests: [
    { method: 'GET', path: `/api/job/${seed.body.jobId}/status` },
    { method: 'GET', path: `/api/spec/${seed.body.id}` },
    { method: 'GET', path: '/api/docs/json' },
  ],
});
clearInterval(submitTimer);
clearInterval(sampler);
rss.end = rssMb();

// Let the last jobs finish and their events arrive.
const deadline = Date.now() + 30_000;
const jobsDone = async () => {
  for (const jobId of jobIds) {
    const { body } = await server.request('GET', `/api/job/${jobId}/status`);
    if (!isTerminal(body.status)) return false;
  }
  return true;
};
while (Date.now() < deadline && !(await jobsDone())) await new Promise((r) => setTimeout(r, 250));
await new Promise((r) => setTimeout(r, 1000));

const outcomes: Record<string, number> = {};
const lastSeq = new Map<string, number>();
for (const jobId of jobIds) {
  const { body } = await server.request('GET', `/api/job/${jobId}/status`);
  outcomes[body.status] = (outcomes[body.status] ?? 0) + 1;
  lastSeq.set(jobId, body.seq);
}
for (const sub of subscribers) {
  for (const [jobId, seqs] of sub.seqs) {
    const seen = new Set<number>();
    for (const seq of seqs) {
      if (seen.has(seq)) tally.duplicated++;
      seen.add(seq);
    }
    const last = lastSeq.get(jobId) ?? 0;
    for (let s = 1; s <= last; s++) if (!seen.has(s)) tally.dropped++;
    if (seqs.length === 0) tally.incomplete++;
  }
}

stopping = true;
for (const sub of subscribers) sub.socket.close();
await server.stop();
rmSync(dir, { recursive: true, force: true });

const httpErrors = http.errors + http.timeouts + http.non2xx;
const growth = rss.warm > 0 ? (rss.end - rss.warm) / rss.warm : 0;
const report = {
  seconds,
  http: {
    requests: http.requests.total,
    perSecond: Math.round(http.requests.average),
    latencyP99Ms: http.latency.p99,
    errors: httpErrors,
  },
  jobs: { submitted: jobIds.length, ...outcomes },
  websocket: {
    subscribers: subscriberCount,
    events: tally.events,
    dropped: tally.dropped,
    duplicated: tally.duplicated,
    subscriptionsWithoutEvents: tally.incomplete,
    errorFrames: tally.errorFrames,
    unexpectedCloses: tally.unexpectedCloses,
  },
  rssMb: { ...rss, growthAfterWarmUp: `${(growth * 100).toFixed(1)}%` },
  errors: errors.length + httpErrors,
};
console.log(JSON.stringify(report, null, 2));

const missed = [
  report.errors > 0 && `errors: ${report.errors}`,
  tally.dropped + tally.duplicated + tally.incomplete > 0 &&
    `events dropped ${tally.dropped}, duplicated ${tally.duplicated}, subscriptions without events ${tally.incomplete}`,
  (outcomes.completed ?? 0) !== jobIds.length && `jobs not completed: ${jobIds.length - (outcomes.completed ?? 0)}`,
  growth >= 0.1 && `RSS grew ${(growth * 100).toFixed(1)}% after warm-up`,
].filter(Boolean);
console.log(missed.length === 0 ? 'soak: all targets met' : `soak: targets missed: ${missed.join('; ')}`);
process.exit(missed.length === 0 ? 0 : 1);
