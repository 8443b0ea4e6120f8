import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';
import { round2 } from './round.js';

/** Paths pino blanks in every line: credentials never reach the logs. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["sec-websocket-protocol"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'headers["sec-websocket-protocol"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-api-key"]',
  '*.headers["sec-websocket-protocol"]',
  'API_KEY',
  '*.API_KEY',
  'config.API_KEY',
  'config.TURSO_AUTH_TOKEN',
  'config.GEMINI_API_KEY',
  'config.REDIS_URL',
  // The generator's environment, wherever it is logged.
  '*.GEMINI_API_KEY',
  '*.GOOGLE_API_KEY',
  'apiKey',
  'token',
  'authorization',
  'password',
  '*.apiKey',
  '*.token',
  '*.password',
];

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  return { level: config.LOG_LEVEL, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
}

/** One JSON line per request, written when it completes: request id, route pattern, status, duration. */
export class RequestLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'requestId' });
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      url: request.url.split('?')[0],
      statusCode: reply.statusCode,
      durationMs: round2(reply.elapsedTime),
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request');
  }
}
