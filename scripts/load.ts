/**
 * `npm run load -- --concurrency 10 --requests 50 [--ws 100] [--url …] [--json]`
 * Drives a running idea2spec with autocannon (HTTP) and real WebSocket
 * subscribers, prints throughput, latency and delivery figures, and exits 1 when
 * anything failed.
 */
import { fail, parseCommandLine, positive, reachableClient } from './ops/command-line.js';
import { httpLoad, type HttpLoadResult } from './ops/http-load.js';
import type { Percentiles } from './ops/percentiles.js';
import { wsLoad, type WsLoadResult } from './ops/ws-subscribers.js';

const USAGE = `Usage: npm run load -- [options]

Drives a running idea2spec service and reports what it measured.

  --url URL          the service (default http://localhost:3001, or IDEA2SPEC_URL)
  --path PATH        what the HTTP load requests with GET (default /api/health)
  --concurrency N    HTTP connections at once (default 10)
  --requests N       HTTP requests in all (default 50)
  --ws N             WebSocket subscribers following one job submitted for the run (default 0: none)
  --ws-timeout S     seconds the subscribers wait for the job to end (default 120)
  --api-key KEY      when the service requires API_KEY (or IDEA2SPEC_API_KEY)
  --json             one JSON object on stdout instead of the table
  -h, --help         this text

Exits 0 when every request succeeded and every subscriber saw every event, 1 when
anything failed, 2 when the service is not reachable or an option is wrong.`;

const args = parseCommandLine(USAGE, {
  url: { type: 'string', default: process.env.IDEA2SPEC_URL || 'http://localhost:3001' },
  path: { type: 'string', default: '/api/health' },
  concurrency: { type: 'string', default: '10' },
  requests: { type: 'string', default: '50' },
  ws: { type: 'string', default: '0' },
  'ws-timeout': { type: 'string', default: '120' },
  'api-key': { type: 'string', default: process.env.IDEA2SPEC_API_KEY || undefined },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
});

const concurrency = positive('concurrency', args.concurrency);
const requests = positive('requests', args.requests);
const subscribers = args.ws === '0' ? 0 : positive('ws', args.ws);
const wsTimeoutMs = positive('ws-timeout', args['ws-timeout'], { integer: false }) * 1000;
if (!args.path.startsWith('/')) fail(`--path must start with / (got ${args.path})`);
const apiKey = args['api-key'];

const client = await reachableClient(args.url, apiKey);
const target = new URL(args.path, args.url).toString();
const wsUrl = Object.assign(new URL('/api/ws', args.url), {
  protocol: args.url.startsWith('https') ? 'wss:' : 'ws:',
}).toString();

const http = await httpLoad(target, concurrency, requests, apiKey ? { authorization: `Bearer ${apiKey}` } : {});
const ws = subscribers > 0 ? await wsLoad(client, wsUrl, subscribers, wsTimeoutMs, apiKey) : undefined;
client.close();

const errors = http.errors + (ws?.errors ?? 0);
if (args.json)
  process.stdout.write(
    `${JSON.stringify({ url: args.url, http, ws: ws ?? null, errors, ok: errors === 0 }, null, 2)}\n`,
  );
else process.stdout.write(table(http, ws, errors));
process.exitCode = errors === 0 ? 0 : 1;

function table(http: HttpLoadResult, ws: WsLoadResult | undefined, errors: number): string {
  const ms = (p: Percentiles | undefined) => (p ? `p50 ${p.p50} ms · p95 ${p.p95} ms · p99 ${p.p99} ms` : 'n/a');
  const lines = [
    `HTTP   GET ${http.url}`,
    `       ${http.requests} requests in ${http.durationSeconds} s over ${concurrency} connections: ${http.requestsPerSecond} req/s`,
    `       latency ${ms(http.latencyMs)}`,
    `       status ${
      Object.entries(http.statusCodes)
        .map(([code, n]) => `${code}×${n}`)
        .join(' ') || 'none'
    } · errors ${http.errors}`,
  ];
  if (ws) {
    lines.push(
      `WS     ${ws.subscribers} subscribers on job ${ws.jobId ?? '(none)'}`,
      `       connect ${ms(ws.connectMs)}`,
      `       subscribe ${ms(ws.subscribeMs)}`,
      `       ${ws.eventsReceived} events received, ${ws.liveEvents} live; delivery ${ms(ws.deliveryMs)}`,
      `       errors ${ws.errors}`,
      ...ws.problems.slice(0, 10).map((p) => `         - ${p}`),
    );
  }
  lines.push(errors === 0 ? 'OK: no errors' : `FAILED: ${errors} error(s)`);
  return `${lines.join('\n')}\n`;
}
