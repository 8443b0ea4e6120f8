/**
 * idea2spec/client: a typed client for browsers and Node 20+. It follows jobs over
 * the WebSocket, falls back to polling when the socket cannot connect or drops,
 * and never delivers an update twice or out of order.
 */
export { createClient, Idea2SpecClient } from './client.js';
export { ApiError, ConnectionError, Idea2SpecError, JobCancelledError, JobFailedError } from './errors.js';
export type * from './types.js';
export type { WebSocketFactory, WebSocketLike } from './websocket.js';
export { isTerminal, JOB_STATUSES } from '../jobs/transitions.js';
