import type { FastifyPluginAsync } from 'fastify';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Errors } from '../errors.js';
import { canonicalJobId } from '../schemas/jobs.js';
import '../schemas/formats.js';
import {
  CLIENT_MESSAGE_TYPES,
  PingMessage,
  SubscribeMessage,
  UnsubscribeMessage,
  type ClientMessage,
} from '../schemas/ws.js';
import type { Connection } from '../websocket/hub.js';
import { websocketProtocolDoc } from '../docs/websocket-protocol.js';

/** One checker per message type, so an error names what is wrong with the message the client meant to send. */
const checkers = {
  'subscribe-job': TypeCompiler.Compile(SubscribeMessage),
  'unsubscribe-job': TypeCompiler.Compile(UnsubscribeMessage),
  ping: TypeCompiler.Compile(PingMessage),
} as const;

/**
 * GET /api/ws: job updates over a raw WebSocket (see the protocol in the OpenAPI
 * description). This route only translates frames into the hub's calls.
 */
const wsRoutes: FastifyPluginAsync = async (app) => {
  const hub = app.wsHub;
  /** Open sockets (and upgrades under way) per client address: one client cannot take every slot. */
  const perClient = new Map<string, number>();

  const onMessage = async (conn: Connection, data: Buffer, isBinary: boolean) => {
    let message: unknown;
    try {
      message = JSON.parse(isBinary ? '' : data.toString('utf8'));
    } catch {
      return hub.sendError(conn, 'INVALID_JSON', 'Frames must be JSON text');
    }
    const type = (message as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !(CLIENT_MESSAGE_TYPES as readonly string[]).includes(type)) {
      const expected = CLIENT_MESSAGE_TYPES.join(', ');
      return hub.sendError(conn, 'UNKNOWN_TYPE', `Unknown message type; expected one of ${expected}`);
    }
    const checker = checkers[type as ClientMessage['type']];
    if (!checker.Check(message)) {
      const first = checker.Errors(message).First();
      const why = first ? `${first.path || '/'} ${first.message}` : 'bad shape';
      return hub.sendError(conn, 'INVALID_MESSAGE', `Invalid ${type} message: ${why}`);
    }
    const valid = message as ClientMessage;
    switch (valid.type) {
      case 'ping':
        return hub.send(conn, { type: 'pong' });
      case 'unsubscribe-job': {
        const jobId = canonicalJobId(valid.jobId);
        hub.unsubscribe(conn, jobId);
        return hub.send(conn, { type: 'unsubscribed', jobId });
      }
      case 'subscribe-job':
        return hub.subscribe(conn, canonicalJobId(valid.jobId), valid.afterSeq);
    }
  };

  app.get(
    '/api/ws',
    {
      websocket: true,
      schema: {
        tags: ['websocket'],
        summary: 'Live job updates over WebSocket (upgrade required)',
        description: websocketProtocolDoc,
      },
      // Counted before the upgrade, released when the TCP connection closes: an upgrade that fails
      // (403, 503) releases its place as an open socket that closes does.
      onRequest: async (request, reply) => {
        const client = request.ip;
        const open = perClient.get(client) ?? 0;
        if (open >= app.config.WS_MAX_CONNECTIONS_PER_CLIENT) {
          reply.header('retry-after', '5');
          throw new Errors.TooManyConnections(app.config.WS_MAX_CONNECTIONS_PER_CLIENT);
        }
        perClient.set(client, open + 1);
        request.raw.socket.once('close', () => {
          const left = (perClient.get(client) ?? 1) - 1;
          if (left > 0) perClient.set(client, left);
          else perClient.delete(client);
        });
      },
    },
    (socket, request) => {
      hub.connect(socket, (conn, data, isBinary) => {
        onMessage(conn, data, isBinary).catch((err: unknown) => {
          request.log.error({ err }, 'websocket message failed');
          hub.sendError(conn, 'INTERNAL_ERROR', 'The server could not handle this message');
        });
      });
    },
  );
};

export default wsRoutes;
