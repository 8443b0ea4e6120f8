import type { FastifyPluginAsync } from 'fastify';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { WebSocket } from 'ws';
import type { JobEvent } from '../schemas/jobs.js';
import '../schemas/formats.js';
import { CLIENT_MESSAGE_TYPES, PingMessage, SubscribeMessage, UnsubscribeMessage, type ClientMessage, type WsErrorMessage } from '../schemas/ws.js';
import { MessageLimiter } from './ws-message-limiter.js';
import { websocketProtocolDoc } from './ws-protocol-doc.js';

/** One checker per message type, so an error names what is wrong with the message the client meant to send. */
const checkers = {
  'subscribe-job': TypeCompiler.Compile(SubscribeMessage),
  'unsubscribe-job': TypeCompiler.Compile(UnsubscribeMessage),
  ping: TypeCompiler.Compile(PingMessage),
} as const;

/** A socket whose unsent data passes this is not keeping up; it is closed rather than buffered without end. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

interface Connection {
  socket: WebSocket;
  alive: boolean;
  subscriptions: Map<string, () => void>;
  limiter: MessageLimiter;
}

/** GET /api/ws: job updates over a raw WebSocket (see the protocol in the OpenAPI description). */
const wsRoutes: FastifyPluginAsync = async (app) => {
  const connections = new Set<Connection>();
  const { WS_MAX_SUBSCRIPTIONS, WS_HEARTBEAT_MS, WS_MAX_MESSAGES_PER_SECOND } = app.config;

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

  const send = (conn: Connection, message: unknown) => {
    if (conn.socket.readyState !== conn.socket.OPEN) return;
    if (conn.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      conn.socket.close(1013, 'Client too slow');
      return;
    }
    conn.socket.send(JSON.stringify(message));
  };
  const sendError = (conn: Connection, code: WsErrorMessage['code'], message: string, jobId?: string) =>
    send(conn, { type: 'error', code, message, ...(jobId ? { jobId } : {}) } satisfies WsErrorMessage);

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
      send(conn, { type: 'subscribed', jobId, status: live.status, seq: live.seq, text: live.text });
      if (afterSeq !== undefined) for (const event of live.eventsAfter(afterSeq)) send(conn, event);
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
    send(conn, { type: 'subscribed', jobId, status: snapshot.status, seq: snapshot.seq, text: snapshot.text });
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
      case 'unsubscribe-job':
        unsubscribe(conn, valid.jobId);
        return send(conn, { type: 'unsubscribed', jobId: valid.jobId });
      case 'subscribe-job':
        return subscribe(conn, valid.jobId, valid.afterSeq);
    }
  };

  app.get(
    '/api/ws',
    {
      websocket: true,
      schema: { tags: ['websocket'], summary: 'Live job updates over WebSocket (upgrade required)', description: websocketProtocolDoc },
    },
    (socket, request) => {
      const conn: Connection = { socket, alive: true, subscriptions: new Map(), limiter: new MessageLimiter(WS_MAX_MESSAGES_PER_SECOND) };
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
