import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { Errors } from '../errors.js';
import { isTerminal } from '../jobs/transitions.js';
import { ErrorResponse } from '../schemas/common.js';
import { canonicalJobId, JobIdParams, type JobEvent } from '../schemas/jobs.js';
import { sleep } from '../time.js';

const SEQ = /^(0|[1-9][0-9]{0,15})$/;
/** How often a stream opened while the event log could not be reached tries it again. */
const RESUBSCRIBE_MS = 1000;
/**
 * Live events a stream may have waiting behind a client that reads slower than the job writes. Past
 * this the stream ends (the client resumes with Last-Event-ID from the retained events) instead of
 * the server keeping, for one reader, every event the job writes from then on.
 */
const MAX_QUEUED_LIVE_EVENTS = 1000;

/**
 * GET /api/job/:jobId/events: the job's events as Server-Sent Events, for clients that cannot hold a
 * WebSocket (serverless functions, shell scripts, proxies that strip upgrades). Each event carries its
 * seq as the event id, so a reconnecting EventSource (Last-Event-ID) or a client passing ?afterSeq=
 * gets exactly the events it missed, then live ones; the stream ends after the terminal event.
 */
const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const open = new Set<FastifyReply>();
  let closing = false;
  // Open streams would hold the server's close forever: they end, and clients reconnect elsewhere with Last-Event-ID.
  app.addHook('preClose', async () => {
    closing = true;
    for (const reply of open) reply.sse.close();
  });

  app.get(
    '/api/job/:jobId/events',
    {
      sse: { kind: 'manual' },
      schema: {
        tags: ['generate'],
        summary: "The job's events as a Server-Sent Events stream (id: seq; replay with Last-Event-ID or afterSeq)",
        description:
          'Streams the same `job-update` envelopes as the WebSocket, as `text/event-stream`: `id: <seq>`, `event: job-update`, `data: <JobEvent>`. ' +
          "Without Last-Event-ID or afterSeq the stream starts at the job's first retained event. Comment lines (`: heartbeat`) arrive every SSE_HEARTBEAT_MS. " +
          'The stream ends after the terminal event (completed, failed or cancelled). Example: `curl -N -H "Authorization: Bearer $API_KEY" $URL/api/v1/job/$JOB/events`.',
        params: JobIdParams,
        querystring: Type.Object({
          afterSeq: Type.Optional(
            Type.Integer({
              minimum: 0,
              description: 'Send only events with seq > afterSeq (the Last-Event-ID header, when present, wins)',
            }),
          ),
        }),
        headers: Type.Object({
          'last-event-id': Type.Optional(
            Type.String({ description: 'The id (seq) of the last event received, sent by a reconnecting EventSource' }),
          ),
        }),
        response: { 200: Type.String(), 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request, reply) => {
      const jobId = canonicalJobId(request.params.jobId);
      const lastEventId = request.headers['last-event-id'];
      if (lastEventId !== undefined && !SEQ.test(lastEventId.trim())) {
        throw new Errors.InvalidLastEventId(lastEventId.slice(0, 40));
      }
      const afterSeq = lastEventId !== undefined ? Number(lastEventId.trim()) : (request.query.afterSeq ?? 0);

      // One writer per stream, waiting for the socket to take each event before the next: a client that
      // does not read holds one event in the server, not the whole replay. Live events queue behind it.
      const live: JobEvent[] = [];
      let wake: (() => void) | undefined;
      let stop!: () => void;
      const stopped = new Promise<void>((resolve) => (stop = resolve));
      const listen = (event: JobEvent) => {
        live.push(event);
        // Too far behind to catch up from memory: the stream ends, and the client resumes with Last-Event-ID.
        if (live.length > MAX_QUEUED_LIVE_EVENTS) {
          live.length = 0;
          stop();
        }
        wake?.();
      };
      // A shared log that cannot be reached (Redis away) is tried again while the client stays, once the
      // row says the job is there and still running: a stream that waits, not a 500 that ends it.
      let subscription = await app.jobs.follow(jobId, afterSeq, listen).catch(() => null);
      if (subscription === null) {
        const stored = await app.jobs.snapshot(jobId);
        if (!stored) throw new Errors.JobNotFound(jobId);
        if (!isTerminal(stored.status)) {
          reply.sse.sendHeaders();
          open.add(reply);
          try {
            while (subscription === null && reply.sse.isConnected && !closing) {
              await sleep(RESUBSCRIBE_MS);
              subscription = await app.jobs.follow(jobId, afterSeq, listen).catch(() => null);
            }
          } finally {
            open.delete(reply);
          }
          if (subscription === null) return;
        }
      }
      if (!subscription) {
        // Not held any more (finished long ago, or before a restart): its last event is all there is.
        const last = await app.jobs.lastEvent(jobId);
        if (!last) throw new Errors.JobNotFound(jobId);
        reply.sse.sendHeaders();
        if (last.seq > afterSeq) await reply.sse.send({ id: String(last.seq), event: 'job-update', data: last });
        return;
      }

      reply.sse.sendHeaders();
      open.add(reply);
      reply.sse.onClose(stop);
      if (!reply.sse.isConnected) stop();
      let done = false;
      void stopped.then(() => (done = true));
      /** Resolves once the socket has taken the event, or the stream has stopped. */
      const send = (event: JobEvent) =>
        Promise.race([
          reply.sse.send({ id: String(event.seq), event: 'job-update', data: event }).catch(() => undefined),
          stopped,
        ]);
      try {
        const { snapshot, replay } = subscription;
        let sent = afterSeq;
        let ended = isTerminal(snapshot.status);
        for (const event of replay) {
          if (done) return;
          await send(event);
          sent = event.seq;
        }
        while (!ended && !done) {
          const event = live.shift();
          if (event === undefined) {
            await Promise.race([new Promise<void>((resolve) => (wake = resolve)), stopped]);
            wake = undefined;
            continue;
          }
          // Live events the snapshot (and so the replay) already covered.
          if (event.seq <= Math.max(sent, snapshot.seq)) continue;
          await send(event);
          sent = event.seq;
          ended = isTerminal(event.status);
        }
      } finally {
        subscription.close();
        open.delete(reply);
      }
    },
  );
};

export default eventRoutes;
