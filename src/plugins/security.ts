import { createHash } from 'node:crypto';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import { allowedOrigins } from '../config.js';

/** Swagger UI's top-bar logo is an SVG carrying this <style>: its hash lets exactly that in, and no other inline style. */
const SWAGGER_LOGO_STYLE = '.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}';
const swaggerLogoStyleHash = `'sha256-${createHash('sha256').update(SWAGGER_LOGO_STYLE).digest('base64')}'`;

/** Security headers, exact-origin CORS and per-IP rate limits, all from the configuration. */
export default fp(
  async function securityPlugin(app) {
    const { config } = app;
    const origins = new Set(allowedOrigins(config));

    // One policy for every page the service serves (/status and the Swagger UI at /api/docs):
    // their own scripts, styles and data: images, and fetches to this origin — nothing else.
    // No upgrade-insecure-requests: the service itself speaks plain HTTP (TLS, if any, ends at a proxy),
    // and the directive would send the pages' own assets to an https:// port that does not exist.
    // @fastify/helmet builds helmet's middleware for every request (~10% of a GET /api/health, bench/health.bench.ts);
    // it stays, as the stack chosen for this service, until that cost matters more than the plugin.
    await app.register(helmet, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          connectSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          styleSrc: ["'self'", swaggerLogoStyleHash],
          scriptSrc: ["'self'"],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          frameAncestors: ["'none'"],
          upgradeInsecureRequests: null,
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
