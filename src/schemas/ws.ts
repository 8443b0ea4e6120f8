import { Type, type Static } from '@sinclair/typebox';

const JobId = Type.String({ format: 'uuid' });

export const SubscribeMessage = Type.Object({
  type: Type.Literal('subscribe-job'),
  jobId: JobId,
  afterSeq: Type.Optional(Type.Integer({ minimum: 0, description: 'Replay retained events with seq > afterSeq' })),
});
export const UnsubscribeMessage = Type.Object({ type: Type.Literal('unsubscribe-job'), jobId: JobId });
export const PingMessage = Type.Object({ type: Type.Literal('ping') });

export const ClientMessage = Type.Union([SubscribeMessage, UnsubscribeMessage, PingMessage]);
export type ClientMessage = Static<typeof ClientMessage>;
export const CLIENT_MESSAGE_TYPES = ['subscribe-job', 'unsubscribe-job', 'ping'] as const;

export const SubscribedMessage = Type.Object({
  type: Type.Literal('subscribed'),
  jobId: JobId,
  status: Type.String(),
  seq: Type.Integer({ description: 'seq of the last event included in text' }),
  text: Type.String({ description: 'The spec text so far' }),
});
export type SubscribedMessage = Static<typeof SubscribedMessage>;

/** What a client may be told is wrong; the socket stays open after each. */
export const WS_ERROR_CODES = [
  'INVALID_JSON',
  'INVALID_MESSAGE',
  'UNKNOWN_TYPE',
  'JOB_NOT_FOUND',
  'TOO_MANY_SUBSCRIPTIONS',
  'RATE_LIMITED',
  'INTERNAL_ERROR',
] as const;

export const WsErrorMessage = Type.Object({
  type: Type.Literal('error'),
  code: Type.Union(WS_ERROR_CODES.map((code) => Type.Literal(code))),
  message: Type.String(),
  jobId: Type.Optional(Type.String()),
  retryAfterMs: Type.Optional(Type.Integer({ description: 'RATE_LIMITED: when the same request will be accepted' })),
});
export type WsErrorMessage = Static<typeof WsErrorMessage>;

export const PongMessage = Type.Object({ type: Type.Literal('pong') });
export const UnsubscribedMessage = Type.Object({ type: Type.Literal('unsubscribed'), jobId: JobId });
