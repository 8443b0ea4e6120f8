import websocket from '@fastify/websocket';
import fp from 'fastify-plugin';
import type { WebSocket } from 'ws';
import { allowedOrigins } from '../config.js';
import { WebSocketHub, type WsStats } from '../websocket/hub.js';
import { WS_PROTOCOL } from './auth.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Connections, heartbeat and job subscriptions (through the event log). */
    wsHub: WebSocketHub;
    wsStats: WsStats;
  }
}

/**
 * @fastify/websocket with the service's limits: frame size (1009 above it), an
 * Origin check against ALLOWED_ORIGINS (no cross-site WebSocket hijacking), a cap
 * on open sockets (503 above WS_MAX_CONNECTIONS), and close code 1001 for every
 * client when the server shuts down; and the hub that tracks the sockets.
 */
export default fp(
  async function websocketPlugin(app) {
    const origins = new Set(allowedOrigins(app.config));
    const { config } = app;
    const hub = new WebSocketHub({
      events: { subscribe: (jobId, afterSeq, listener) => app.jobs.follow(jobId, afterSeq, listener) },
      fallbackSnapshot: (jobId) => app.jobs.snapshot(jobId),
      lastEvent: (jobId) => app.jobs.lastEvent(jobId),
      maxSubscriptions: config.WS_MAX_SUBSCRIPTIONS,
      heartbeatMs: config.WS_HEARTBEAT_MS,
      maxMessagesPerSecond: config.WS_MAX_MESSAGES_PER_SECOND,
      snapshotBytesPerMinute: config.WS_SNAPSHOT_BYTES_PER_MINUTE,
    });
    app.decorate('wsHub', hub);
    app.decorate('wsStats', hub.stats);
    app.addHook('onClose', async () => hub.close());
    await app.register(websocket, {
      options: {
        maxPayload: app.config.WS_MAX_PAYLOAD,
        verifyClient: (info, next) => {
          const origin = info.origin || info.req.headers.origin;
          if (origin && !origins.has(origin)) return next(false, 403, 'Origin not allowed');
          if (app.websocketServer.clients.size >= app.config.WS_MAX_CONNECTIONS)
            return next(false, 503, 'Too many WebSocket connections', { 'Retry-After': '5' });
          next(true);
        },
        // Only ever echo our own protocol name: the default would echo the first offered, which may be `bearer.<API_KEY>`.
        handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
      },
      preClose(done) {
        for (const client of this.websocketServer.clients as Set<WebSocket>) client.close(1001, 'Server shutting down');
        done();
      },
    });
  },
  { name: 'websocket', dependencies: ['config', 'jobs'] },
);
