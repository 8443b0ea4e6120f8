import type { TSchema } from '@sinclair/typebox';
import { packageVersion } from '../paths.js';
import { JobEvent } from '../schemas/jobs.js';
import {
  PingMessage,
  PongMessage,
  SubscribedMessage,
  SubscribeMessage,
  UnsubscribedMessage,
  UnsubscribeMessage,
  WS_ERROR_CODES,
  WsErrorMessage,
} from '../schemas/ws.js';

export const ASYNCAPI_PATH = '/api/docs/asyncapi.json';

const EXAMPLE_JOB = '9f0c5a2e-3b1d-4c8e-9a7f-2d6b1e0c4f3a';

/** Each frame of the protocol: the TypeBox schema the server validates (or builds) it with, and an example. */
const MESSAGES: Record<string, { schema: TSchema; title: string; summary: string; example: unknown }> = {
  subscribeJob: {
    schema: SubscribeMessage,
    title: 'Subscribe to a job',
    summary:
      'Answered with `subscribed` (a snapshot), then the retained events with seq > afterSeq when afterSeq is given (replay after a reconnect), then live events.',
    example: { type: 'subscribe-job', jobId: EXAMPLE_JOB, afterSeq: 3 },
  },
  unsubscribeJob: {
    schema: UnsubscribeMessage,
    title: 'Unsubscribe from a job',
    summary: 'Answered with `unsubscribed`.',
    example: { type: 'unsubscribe-job', jobId: EXAMPLE_JOB },
  },
  ping: {
    schema: PingMessage,
    title: 'Application-level ping',
    summary: 'Answered with `pong`.',
    example: { type: 'ping' },
  },
  subscribed: {
    schema: SubscribedMessage,
    title: 'Subscription snapshot',
    summary: "The job's current status, the seq of the last event and the text so far.",
    example: { type: 'subscribed', jobId: EXAMPLE_JOB, status: 'processing', seq: 3, text: '## Overview\n' },
  },
  unsubscribed: {
    schema: UnsubscribedMessage,
    title: 'Unsubscribed',
    summary: 'No more events of this job on this socket.',
    example: { type: 'unsubscribed', jobId: EXAMPLE_JOB },
  },
  pong: { schema: PongMessage, title: 'Pong', summary: 'The answer to `ping`.', example: { type: 'pong' } },
  jobUpdate: {
    schema: JobEvent,
    title: 'Job update',
    summary:
      'One event of a job: seq 1, 2, 3… without gaps; the same envelope as Server-Sent Events, polling and webhooks.',
    example: {
      type: 'job-update',
      jobId: EXAMPLE_JOB,
      ideaId: 42,
      seq: 4,
      status: 'processing',
      timestamp: '2026-11-27T00:00:01.000Z',
      message: 'Generating (attempt 1 of 3)',
      attempt: 1,
      progress: { chars: 24, chunks: 2 },
      delta: 'Users plan meals weekly.',
    },
  },
  error: {
    schema: WsErrorMessage,
    title: 'Error',
    summary: `A frame the server could not act on (codes ${WS_ERROR_CODES.join(', ')}); the socket stays open.`,
    example: { type: 'error', code: 'JOB_NOT_FOUND', message: `Job ${EXAMPLE_JOB} not found`, jobId: EXAMPLE_JOB },
  },
};

const ref = (path: string) => ({ $ref: path });
const channelMessage = (name: string) => ref(`#/channels/jobUpdates/messages/${name}`);

/** The AsyncAPI 3 document of the WebSocket at /api/v1/ws, for the origin clients reach the service at. */
export function asyncApiDocument(origin: string, protectedByKey: boolean) {
  const url = new URL(origin);
  const channel = ref('#/channels/jobUpdates');
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'idea2spec WebSocket',
      version: packageVersion,
      description:
        'Live updates of generation jobs over a raw WebSocket with JSON text frames. Browsers must connect from an origin in ALLOWED_ORIGINS. ' +
        'The server pings at the protocol level and terminates sockets that stop answering; frames over WS_MAX_PAYLOAD close the socket with 1009, ' +
        'more than WS_MAX_MESSAGES_PER_SECOND frames per second are dropped (RATE_LIMITED) and a sustained excess closes it with 1008; on shutdown clients get 1001. ' +
        'The HTTP API (OpenAPI) is at /api/docs/json.',
      externalDocs: { description: 'The HTTP API', url: `${url.origin}/api/docs/json` },
    },
    defaultContentType: 'application/json',
    servers: {
      service: {
        host: url.host,
        protocol: url.protocol === 'https:' ? 'wss' : 'ws',
        ...(url.pathname !== '/' ? { pathname: url.pathname.replace(/\/+$/, '') } : {}),
        description: protectedByKey ? 'Requires the API key' : 'Open: the service has no API_KEY',
        ...(protectedByKey
          ? { security: [ref('#/components/securitySchemes/bearer'), ref('#/components/securitySchemes/subprotocol')] }
          : {}),
      },
    },
    channels: {
      jobUpdates: {
        address: '/api/v1/ws',
        title: 'Job updates',
        description: 'The same socket is also served at /api/ws, an alias of the current version.',
        messages: Object.fromEntries(Object.keys(MESSAGES).map((name) => [name, ref(`#/components/messages/${name}`)])),
        bindings: { ws: { method: 'GET' } },
      },
    },
    operations: {
      subscribeJob: {
        action: 'send',
        channel,
        summary: 'Follow a job, replaying missed events with afterSeq',
        messages: [channelMessage('subscribeJob')],
        reply: { channel, messages: [channelMessage('subscribed'), channelMessage('error')] },
      },
      unsubscribeJob: {
        action: 'send',
        channel,
        messages: [channelMessage('unsubscribeJob')],
        reply: { channel, messages: [channelMessage('unsubscribed')] },
      },
      ping: {
        action: 'send',
        channel,
        messages: [channelMessage('ping')],
        reply: { channel, messages: [channelMessage('pong')] },
      },
      receiveJobUpdates: {
        action: 'receive',
        channel,
        summary: 'Events of the subscribed jobs',
        messages: [channelMessage('jobUpdate')],
      },
      receiveErrors: {
        action: 'receive',
        channel,
        summary: 'Errors about frames the client sent',
        messages: [channelMessage('error')],
      },
    },
    components: {
      messages: Object.fromEntries(
        Object.entries(MESSAGES).map(([name, m]) => [
          name,
          {
            name,
            title: m.title,
            summary: m.summary,
            payload: plainSchema(m.schema),
            examples: [{ payload: m.example }],
          },
        ]),
      ),
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'Authorization: Bearer <API_KEY> on the upgrade request',
        },
        subprotocol: {
          type: 'httpApiKey',
          in: 'header',
          name: 'Sec-WebSocket-Protocol',
          description:
            'Browsers: offer the subprotocols `idea2spec` and `bearer.<API_KEY>`; the server answers `idea2spec` and never echoes the key',
        },
      },
    },
  };
}

/** The schema as JSON (TypeBox keeps its own bookkeeping under symbols, which JSON leaves out). */
function plainSchema(schema: TSchema): unknown {
  return JSON.parse(JSON.stringify(schema));
}
