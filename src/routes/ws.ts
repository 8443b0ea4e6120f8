import type { FastifyPluginAsync } from 'fastify';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { WebSocket } from 'ws';
import { canonicalJobId, type JobEvent } from '../schemas/jobs.js';
import '../schemas/formats.js';
import { CLIENT_MESSAGE_TYPES, PingMessage, SubscribeMessage, UnsubscribeMessage, type ClientMessage, type WsErrorMessage } from '../schemas/ws.js';
import { MessageLimiter } from './ws-message-limiter.js';
import { SendBudget } from './ws-send-budget.js';
import { websocketProtocolDoc } from './ws-protocol-doc.js';

/** One checker per message type, so an error names what is wrong with the message the client meant to send. */
const checkers = {
  'subscribe-job': TypeCompiler.Compile(SubscribeMessage),
  'unsubscribe-job': TypeCompiler.Compile(UnsubscribeMessage),
  ping: TypeCompiler.Compile(PingMessage),
} as const;

/** A socket whose unsent data passes this is not keeping up; it is closed rather than buffered without end. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** A socket with this much still unsent gets no new snapshot until it has caught up (backpressure). */
const SNAPSHOT_BACKLOG_BYTES = 1024 * 1024;

interface Connection {
  socket: WebSocket;
  alive: boolean;
  subscriptions: Map<string, () => void>;
  limiter: MessageLimiter;
  budget: SendBudget;
}

/** GET /api/ws: job updates over a raw WebSocket (see the protocol in the OpenAPI description). */
const wsRoutes: FastifyPluginAsync = async (app) => {
  const connections = new Set<Connection>();
  const { WS_MAX_SUBSCRIPTIONS, WS_HEARTBEAT_MS, WS_MAX_MESSAGES_PER_SECOND, WS_SNAPSHOT_BYTES_PER_MINUTE } = app.config;

  // One timer for all sockets: a socket that did not answer the previous ping is dropped.
  const heartbeat = setInterval(() => {
    for (const conn of connections) {
      if (!conn.alive) {
        conn.socket.terminate();
        continue;
      }
      conn.alive = false;
      conn.socket.ping();
    }
  }, WS_HEARTBEAT_MS);
  heartbeat.unref();
  app.addHook('onClose', async () => clearInterval(heartbeat));

  const sendFrame = (conn: Connection, frame: string) => {
    if (conn.socket.readyState !== conn.socket.OPEN) return;
    if (conn.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      conn.socket.close(1013, 'Client too slow');
      return;
    }
    conn.socket.send(frame);
  };
  const send = (conn: Connection, message: unknown) => sendFrame(conn, JSON.stringify(message));
  const sendError = (conn: Connection, code: WsErrorMessage['code'], message: string, jobId?: string, retryAfterMs?: number) =>
    send(conn, { type: 'error', code, message, ...(jobId ? { jobId } : {}), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) } satisfies WsErrorMessage);

  /**
   * A subscribe's reply (the snapshot, then the replay) goes out whole, and only
   * when the socket has caught up with what it was sent and its budget covers it;
   * otherwise RATE_LIMITED says when to ask again (the SDK polls meanwhile).
   */
  const sendReply = (conn: Connection, jobId: string, messages: unknown[]): boolean => {
    const frames = messages.map((m) => JSON.stringify(m));
    const backlog = conn.socket.bufferedAmount > SNAPSHOT_BACKLOG_BYTES;
    const verdict = backlog ? { ok: false as const, retryAfterMs: 1000 } : conn.budget.take(frames.reduce((n, f) => n + Buffer.byteLength(f), 0));
    if (!verdict.ok) {
      const why = backlog ? 'this socket has not yet read what it was sent' : `this socket has used its ${WS_SNAPSHOT_BYTES_PER_MINUTE} bytes a minute of subscribe replies`;
      sendError(conn, 'RATE_LIMITED', `Subscribe refused: ${why}; subscribe again in ${Math.ceil(verdict.retryAfterMs / 1000)} s`, jobId, verdict.retryAfterMs);
      return false;
    }
    for (const frame of frames) sendFrame(conn, frame);
    return true;
  };

  const unsubscribe = (conn: Connection, jobId: string) => {
    const off = conn.subscriptions.get(jobId);
    if (!off) return false;
    off();
    conn.subscriptions.delete(jobId);
    app.wsStats.subscriptions--;
    return true;
  };

  const subscribe = async (conn: Connection, jobId: string, afterSeq: number | undefined) => {
    unsubscribe(conn, jobId);
    if (conn.subscriptions.size >= WS_MAX_SUBSCRIPTIONS) {
      return sendError(conn, 'TOO_MANY_SUBSCRIPTIONS', `At most ${WS_MAX_SUBSCRIPTIONS} subscriptions per connection`, jobId);
    }
    // A live job is read, replayed and subscribed in one synchronous step, so no event falls between.
    const live = app.jobs.get(jobId);
    if (live) {
      const replay = afterSeq !== undefined ? live.eventsAfter(afterSeq) : [];
      if (!sendReply(conn, jobId, [{ type: 'subscribed', jobId, status: live.status, seq: live.seq, text: live.text }, ...replay])) return;
      if (!live.terminal) {
        conn.subscriptions.set(
          jobId,
          live.subscribe((event: JobEvent) => {
            send(conn, event);
            // A finished job sends nothing more: its subscription no longer counts against the cap.
            if (live.terminal) unsubscribe(conn, jobId);
          }),
        );
        app.wsStats.subscriptions++;
      }
      return;
    }
    const snapshot = await app.jobs.snapshot(jobId);
    if (!snapshot) return sendError(conn, 'JOB_NOT_FOUND', `Job ${jobId} not found`, jobId);
    sendReply(conn, jobId, [{ type: 'subscribed', jobId, status: snapshot.status, seq: snapshot.seq, text: snapshot.text }]);
  };

  const onMessage = async (conn: Connection, data: Buffer, isBinary: boolean) => {
    let message: unknown;
    try {
      message = JSON.parse(isBinary ? '' : data.toString('utf8'));
    } catch {
      return sendError(conn, 'INVALID_JSON', 'Frames must be JSON text');
    }
    const type = (message as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !(CLIENT_MESSAGE_TYPES as readonly string[]).includes(type)) {
      return sendError(conn, 'UNKNOWN_TYPE', `Unknown message type; expected one of ${CLIENT_MESSAGE_TYPES.join(', ')}`);
    }
    const checker = checkers[type as ClientMessage['type']];
    if (!checker.Check(message)) {
      const first = checker.Errors(message).First();
      return sendError(conn, 'INVALID_MESSAGE', `Invalid ${type} message: ${first ? `${first.path || '/'} ${first.message}` : 'bad shape'}`);
    }
    const valid = message as ClientMessage;
    switch (valid.type) {
      case 'ping':
        return send(conn, { type: 'pong' });
      case 'unsubscribe-job': {
        const jobId = canonicalJobId(valid.jobId);
        unsubscribe(conn, jobId);
        return send(conn, { type: 'unsubscribed', jobId });
      }
      case 'subscribe-job':
        return subscribe(conn, canonicalJobId(valid.jobId), valid.afterSeq);
    }
  };

  app.get(
    '/api/ws',
    {
      websocket: true,
      schema: { tags: ['websocket'], summary: 'Live job updates over WebSocket (upgrade required)', description: websocketProtocolDoc },
    },
    (socket, request) => {
      const conn: Connection = {
        socket,
        alive: true,
        subscriptions: new Map(),
        limiter: new MessageLimiter(WS_MAX_MESSAGES_PER_SECOND),
        budget: new SendBudget(WS_SNAPSHOT_BYTES_PER_MINUTE),
      };
      connections.add(conn);
      app.wsStats.connections++;
      socket.on('pong', () => (conn.alive = true));
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        conn.alive = true;
        const verdict = conn.limiter.take();
        if (verdict === 'close') return socket.close(1008, 'Too many messages');
        if (verdict === 'warn') sendError(conn, 'RATE_LIMITED', `At most ${WS_MAX_MESSAGES_PER_SECOND} messages per second; extra messages are dropped`);
        if (verdict !== 'accept') return;
        onMessage(conn, data, isBinary).catch((err: unknown) => {
          request.log.error({ err }, 'websocket message failed');
          sendError(conn, 'INTERNAL_ERROR', 'The server could not handle this message');
        });
      });
      socket.on('close', () => {
        for (const jobId of [...conn.subscriptions.keys()]) unsubscribe(conn, jobId);
        connections.delete(conn);
        app.wsStats.connections--;
      });
    },
  );
};

export default wsRoutes;
