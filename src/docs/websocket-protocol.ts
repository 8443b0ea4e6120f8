import type { OpenAPIV3_1 } from 'openapi-types';
import { JobEvent } from '../schemas/jobs.js';
import { WS_ERROR_CODES } from '../schemas/ws.js';
import { ASYNCAPI_PATH } from './asyncapi.js';

/** The WebSocket protocol, as it appears in the OpenAPI description (OpenAPI cannot describe WebSockets itself; the AsyncAPI document does). */
export const websocketProtocolDoc = `## WebSocket: \`GET /api/v1/ws\` (alias \`/api/ws\`)

Raw WebSocket, JSON text frames. Browsers must connect from an origin in \`ALLOWED_ORIGINS\`.
The machine-readable description, with every message's schema, is the AsyncAPI 3 document at
[\`${ASYNCAPI_PATH}\`](${ASYNCAPI_PATH}).

Client → server:
- \`{"type":"subscribe-job","jobId":"…","afterSeq":0}\` — \`afterSeq\` optional. The server answers
  \`{"type":"subscribed","jobId","status","seq","text"}\` (the current status, the last seq and the text so far),
  then replays the retained events with \`seq > afterSeq\` when \`afterSeq\` is given, then sends live events.
- \`{"type":"unsubscribe-job","jobId":"…"}\` → \`{"type":"unsubscribed","jobId":"…"}\`
- \`{"type":"ping"}\` → \`{"type":"pong"}\`

Server → client: \`job-update\` events (the JobEvent schema; the same envelope as polling), and
\`{"type":"error","code","message"}\` for bad frames (codes ${WS_ERROR_CODES.join(', ')}); the socket stays open after these.
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

/** The event envelope, shared by the WebSocket, the event stream, polling's history and webhooks, as a named component. */
export const websocketSchemas = { JobEvent } as unknown as Record<string, OpenAPIV3_1.SchemaObject>;

/** GET …/events answers text/event-stream: one `job-update` JobEvent per event, its seq as the event id. */
export const eventStreamContent: OpenAPIV3_1.ResponseObject = {
  description:
    'A stream of Server-Sent Events: each is `id: <seq>`, `event: job-update`, `data: <JobEvent as JSON>`; comment lines (`: heartbeat`) keep proxies from closing it; the stream ends after the terminal event.',
  content: {
    'text/event-stream': {
      schema: { type: 'string', description: "Each event's data is a JobEvent (#/components/schemas/JobEvent)" },
      example:
        'id: 1\nevent: job-update\ndata: {"type":"job-update","jobId":"9f0c5a2e-3b1d-4c8e-9a7f-2d6b1e0c4f3a","ideaId":42,"seq":1,"status":"queued","timestamp":"2026-11-27T00:00:00.000Z","message":"Queued","attempt":0,"progress":{"chars":0,"chunks":0}}\n\n',
    },
  },
};

/** What a webhookUrl receives when its job ends (OpenAPI 3.1 `webhooks`). */
export const jobEndedWebhook: OpenAPIV3_1.PathItemObject = {
  post: {
    operationId: 'jobEnded',
    tags: ['generate'],
    summary: 'Sent to the webhookUrl of POST /api/v1/generate when the job ends',
    description:
      "The body is the job's terminal job-update event. Signed per Standard Webhooks with WEBHOOK_SECRET: verify `webhook-signature` over `webhook-id.webhook-timestamp.body` " +
      '(e.g. `new Webhook(secret).verify(body, headers)` from the standardwebhooks package). Delivered at least once: a non-2xx answer, a redirect or no answer within ' +
      'WEBHOOK_TIMEOUT_MS is retried with exponential backoff up to WEBHOOK_MAX_ATTEMPTS times, across restarts, with the same webhook-id (deduplicate on it). ' +
      "The delivery's state is on the idea (GET /api/v1/spec/{id}, field webhook).",
    parameters: [
      {
        name: 'webhook-id',
        in: 'header',
        required: true,
        schema: { type: 'string' },
        description: 'Unique per delivery, the same on every retry',
      },
      {
        name: 'webhook-timestamp',
        in: 'header',
        required: true,
        schema: { type: 'string' },
        description: 'Seconds since the epoch when this attempt was signed',
      },
      {
        name: 'webhook-signature',
        in: 'header',
        required: true,
        schema: { type: 'string' },
        description: '`v1,<base64 HMAC-SHA256>`',
      },
    ],
    requestBody: {
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/JobEvent' } } },
    },
    responses: {
      '200': { description: 'Any 2xx: delivered' },
      '400': { description: 'Any other answer: retried with backoff' },
    },
  },
};

export const websocketPathItem: OpenAPIV3_1.PathItemObject = {
  get: {
    tags: ['websocket'],
    summary: 'Live job updates over WebSocket',
    description: websocketProtocolDoc,
    operationId: 'subscribeJobUpdates',
    externalDocs: { description: 'The protocol as AsyncAPI 3', url: ASYNCAPI_PATH },
    parameters: [
      { name: 'Upgrade', in: 'header', required: true, schema: { type: 'string', enum: ['websocket'] } },
      {
        name: 'Origin',
        in: 'header',
        required: false,
        schema: { type: 'string' },
        description: 'Browsers: must be one of ALLOWED_ORIGINS',
      },
    ],
    responses: {
      '101': {
        description:
          'Switching protocols. Client frames: subscribe-job, unsubscribe-job, ping; server frames: subscribed, JobEvent, error, pong, unsubscribed (schemas in the AsyncAPI document).',
      },
      '403': { description: 'Origin not allowed' },
      '429': {
        description:
          'TOO_MANY_CONNECTIONS: this client already holds WS_MAX_CONNECTIONS_PER_CLIENT open WebSockets; close one (Retry-After)',
      },
      '503': { description: 'Too many open WebSockets (WS_MAX_CONNECTIONS); try again later' },
      '404': { description: 'Not a WebSocket upgrade request' },
    },
  },
};
