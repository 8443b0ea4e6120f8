import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import { allowedOrigins } from '../config.js';

/** Security headers, exact-origin CORS and per-IP rate limits, all from the configuration. */
export default fp(
  async function securityPlugin(app) {
    const { config } = app;
    const origins = new Set(allowedOrigins(config));

    await app.register(helmet, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          connectSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          styleSrc: ["'self'"],
          scriptSrc: ["'self'"],
          objectSrc: ["'none'"],
          frameAncestors: ["'none'"],
        },
      },
    });

    await app.register(cors, {
      // Requests without an Origin (curl, servers) are not cross-site and pass; browsers must match exactly.
      origin: (origin, cb) => cb(null, origin === undefined || origins.has(origin)),
      methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      allowedHeaders: ['content-type', 'authorization', 'idempotency-key', 'x-request-id'],
      exposedHeaders: ['x-request-id', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'location'],
      maxAge: 600,
    });

    await app.register(rateLimit, {
      global: true,
      max: config.RATE_LIMIT_MAX,
      timeWindow: config.RATE_LIMIT_WINDOW_MS,
      errorResponseBuilder: (request, context) => ({
        statusCode: 429,
        code: 'RATE_LIMITED',
        error: 'Too Many Requests',
        message: `Rate limit of ${context.max} requests per ${context.after} exceeded; retry after ${context.after}`,
        requestId: request.id,
      }),
    });
  },
  { name: 'security', dependencies: ['config'] },
);
