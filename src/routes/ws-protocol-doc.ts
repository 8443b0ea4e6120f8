import type { OpenAPIV3 } from 'openapi-types';
import { JobEvent } from '../schemas/jobs.js';
import { ClientMessage, SubscribedMessage, WsErrorMessage } from '../schemas/ws.js';

/** The WebSocket protocol, as it appears in the OpenAPI description (OpenAPI 3.0 cannot describe WebSockets itself). */
export const websocketProtocolDoc = `## WebSocket: \`GET /api/ws\`

Raw WebSocket, JSON text frames. Browsers must connect from an origin in \`ALLOWED_ORIGINS\`.

Client → server:
- \`{"type":"subscribe-job","jobId":"…","afterSeq":0}\` — \`afterSeq\` optional. The server answers
  \`{"type":"subscribed","jobId","status","seq","text"}\` (the current status, the last seq and the text so far),
  then replays the retained events with \`seq > afterSeq\` when \`afterSeq\` is given, then sends live events.
- \`{"type":"unsubscribe-job","jobId":"…"}\` → \`{"type":"unsubscribed","jobId":"…"}\`
- \`{"type":"ping"}\` → \`{"type":"pong"}\`

Server → client: \`job-update\` events (the JobEvent schema; the same envelope as polling), and
\`{"type":"error","code","message"}\` for bad frames (codes INVALID_JSON, INVALID_MESSAGE, UNKNOWN_TYPE,
JOB_NOT_FOUND, TOO_MANY_SUBSCRIPTIONS, RATE_LIMITED); the socket stays open after these.
A client may send \`WS_MAX_MESSAGES_PER_SECOND\` frames per second: the rest are dropped (the first one
answered with RATE_LIMITED), and a flood or sustained excess closes the socket with 1008.

What one socket can make the server send is bounded: the replies to its subscribes (snapshot text plus
replayed events, up to the output cap each) count against \`WS_SNAPSHOT_BYTES_PER_MINUTE\` bytes a minute
(a bucket refilled evenly), and a socket with over 1 MiB still unsent gets no new snapshot. A subscribe
over either answers \`{"type":"error","code":"RATE_LIMITED","jobId","message","retryAfterMs"}\` and sends
nothing else for it (no snapshot, no subscription): subscribe again after \`retryAfterMs\`, or poll
\`GET /api/job/:jobId/status\` meanwhile, as the SDK does. A reply that goes out is whole: the snapshot,
then the replay, then live events. Live events are not counted: each is sent once.

When the service has an \`API_KEY\`, send \`Authorization: Bearer <key>\` with the upgrade, or (browsers)
offer the subprotocols \`idea2spec\` and \`bearer.<key>\`: \`new WebSocket(url, ['idea2spec', 'bearer.' + key])\`.
The server answers with \`idea2spec\` and never echoes the key. Missing or wrong keys get HTTP 401.

Events of one job carry \`seq\` 1, 2, 3… without gaps. While a job is \`processing\`, \`delta\` carries the text
appended since the previous event; when \`attempt\` increases (a retry), the text starts again from empty.

The server pings at the protocol level and terminates sockets that stop answering. Frames larger than
\`WS_MAX_PAYLOAD\` close the socket with 1009; on shutdown clients get 1001.`;


/** The message schemas, under components/schemas, so clients can generate types for the WebSocket too. */
export const websocketSchemas = {
  WsClientMessage: ClientMessage,
  WsSubscribed: SubscribedMessage,
  WsError: WsErrorMessage,
  JobEvent,
} as unknown as Record<string, OpenAPIV3.SchemaObject>;

export const websocketPathItem: OpenAPIV3.PathItemObject = {
  get: {
    tags: ['websocket'],
    summary: 'Live job updates over WebSocket',
    description: websocketProtocolDoc,
    operationId: 'jobUpdatesWebSocket',
    parameters: [
      { name: 'Upgrade', in: 'header', required: true, schema: { type: 'string', enum: ['websocket'] } },
      { name: 'Origin', in: 'header', required: false, schema: { type: 'string' }, description: 'Browsers: must be one of ALLOWED_ORIGINS' },
    ],
    responses: {
      '101': {
        description: 'Switching protocols. Client frames: WsClientMessage; server frames: WsSubscribed, JobEvent, WsError, {"type":"pong"}, {"type":"unsubscribed","jobId"}.',
      },
      '403': { description: 'Origin not allowed' },
      '503': { description: 'Too many open WebSockets (WS_MAX_CONNECTIONS); try again later' },
      '404': { description: 'Not a WebSocket upgrade request' },
    },
  },
};
