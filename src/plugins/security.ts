import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import { allowedOrigins } from '../config.js';

/** Swagger UI's top-bar logo is an SVG carrying this <style>: its hash lets exactly that in, and no other inline style. */
const SWAGGER_LOGO_STYLE = '.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}';
const swaggerLogoStyleHash = `'sha256-${createHash('sha256').update(SWAGGER_LOGO_STYLE).digest('base64')}'`;

/**
 * helmet's headers for the given options, computed once. They never vary per
 * request here, and @fastify/helmet builds a new helmet middleware, CSP parsing
 * and all, for every request: ~10% of the CPU of a GET /api/health
 * (bench/health.bench.ts).
 */
function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: unknown) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
  });
  return headers;
}

/** Security headers, exact-origin CORS and per-IP rate limits, all from the configuration. */
export default fp(
  async function securityPlugin(app) {
    const { config } = app;
    const origins = new Set(allowedOrigins(config));

    // One policy for every page the service serves (/status and the Swagger UI at /api/docs):
    // their own scripts, styles and data: images, and fetches to this origin — nothing else.
    // No upgrade-insecure-requests: the service itself speaks plain HTTP (TLS, if any, ends at a proxy),
    // and the directive would send the pages' own assets to an https:// port that does not exist.
    const securityHeaders = helmetHeaders({
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
    app.addHook('onRequest', (_request, reply, done) => {
      void reply.headers(securityHeaders);
      done();
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
