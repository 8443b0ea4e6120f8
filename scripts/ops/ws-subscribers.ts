import WebSocket from 'ws';
import type { Idea2SpecClient, JobEvent } from '../../src/client/index.js';
import { isTerminal } from '../../src/jobs/transitions.js';
import { percentiles, type Percentiles } from './percentiles.js';

export interface WsLoadResult {
  subscribers: number;
  jobId: string | undefined;
  connectMs: Percentiles | undefined;
  /** From sending subscribe-job to the `subscribed` answer. */
  subscribeMs: Percentiles | undefined;
  eventsReceived: number;
  /** Events published after the subscriber joined (the rest were replays). */
  liveEvents: number;
  /** Server event timestamp to arrival, live events only (same clock when run on the service's machine). */
  deliveryMs: Percentiles | undefined;
  /** Failed connections, subscribers that missed the end, and gaps or repeats in seq. */
  errors: number;
  problems: string[];
}

interface Subscriber {
  socket: WebSocket;
  connectMs: number;
  subscribeSentAt: number;
  subscribeMs?: number;
  snapshotSeq?: number;
  seqs: number[];
  delivery: number[];
  ended: boolean;
  settled: boolean;
}

/**
 * `count` real WebSocket subscribers follow one job submitted for the run: each
 * must see every event (seq 1…n, no gap, no repeat) up to the job's end.
 */
export async function wsLoad(
  client: Idea2SpecClient,
  wsUrl: string,
  count: number,
  timeoutMs: number,
  apiKey: string | undefined,
): Promise<WsLoadResult> {
  const problems: string[] = [];
  const opened = await Promise.allSettled(Array.from({ length: count }, () => open(wsUrl, apiKey)));
  const subscribers = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  for (const o of opened) if (o.status === 'rejected') problems.push(`connect: ${(o.reason as Error).message}`);

  let jobId: string | undefined;
  try {
    if (subscribers.length > 0) {
      jobId = (
        await client.submit(
          `Load test ${new Date().toISOString()}: a tool library where neighbours lend and borrow tools`,
        )
      ).jobId;
      await follow(subscribers, jobId, timeoutMs);
    }
  } catch (err) {
    problems.push(`submit: ${(err as Error).message}`);
  } finally {
    for (const s of subscribers) s.socket.terminate();
  }

  for (const [i, s] of subscribers.entries()) {
    if (jobId && !s.ended)
      problems.push(`subscriber ${i}: no end of the job within ${timeoutMs} ms (last seq ${s.seqs.at(-1) ?? 'none'})`);
    const broken = s.seqs.findIndex((seq, k) => seq !== k + 1);
    if (broken !== -1) problems.push(`subscriber ${i}: seq ${s.seqs[broken]} where ${broken + 1} was due`);
  }
  return {
    subscribers: count,
    jobId,
    connectMs: percentiles(subscribers.map((s) => s.connectMs)),
    subscribeMs: percentiles(subscribers.flatMap((s) => (s.subscribeMs === undefined ? [] : [s.subscribeMs]))),
    eventsReceived: subscribers.reduce((n, s) => n + s.seqs.length, 0),
    liveEvents: subscribers.reduce((n, s) => n + s.delivery.length, 0),
    deliveryMs: percentiles(subscribers.flatMap((s) => s.delivery)),
    errors: problems.length,
    problems,
  };
}

function open(url: string, apiKey: string | undefined): Promise<Subscriber> {
  const started = performance.now();
  const socket = new WebSocket(url, apiKey ? { headers: { authorization: `Bearer ${apiKey}` } } : {});
  return new Promise((resolve, reject) => {
    socket.once('open', () =>
      resolve({
        socket,
        connectMs: performance.now() - started,
        subscribeSentAt: 0,
        seqs: [],
        delivery: [],
        ended: false,
        settled: false,
      }),
    );
    socket.once('error', reject);
  });
}

function follow(subscribers: Subscriber[], jobId: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    let open = subscribers.length;
    const timer = setTimeout(resolve, timeoutMs);
    // A subscriber is settled when it saw the end, or its socket closed first (reported as a problem later).
    const settle = (s: Subscriber) => {
      if (s.settled) return;
      s.settled = true;
      if (--open === 0) {
        clearTimeout(timer);
        resolve();
      }
    };
    for (const s of subscribers) {
      s.socket.on('message', (data) => {
        const arrived = Date.now();
        const frame = JSON.parse(data.toString()) as JobEvent | { type: 'subscribed'; seq: number };
        if (frame.type === 'subscribed') {
          s.subscribeMs = performance.now() - s.subscribeSentAt;
          s.snapshotSeq = frame.seq;
          return;
        }
        if (frame.type !== 'job-update') return;
        s.seqs.push(frame.seq);
        if (frame.seq > (s.snapshotSeq ?? Infinity)) s.delivery.push(arrived - Date.parse(frame.timestamp));
        if (isTerminal(frame.status)) {
          s.ended = true;
          settle(s);
        }
      });
      s.socket.on('close', () => settle(s));
      s.subscribeSentAt = performance.now();
      s.socket.send(JSON.stringify({ type: 'subscribe-job', jobId, afterSeq: 0 }));
    }
  });
}
