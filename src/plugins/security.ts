import { createHash } from 'node:crypto';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import { allowedOrigins } from '../config.js';
import { closeRedis, createFailFastRedis, waitUntilReady } from '../redis/fail-fast-client.js';

/** Swagger UI's top-bar logo is an SVG carrying this <style>: its hash lets exactly that in, and no other inline style. */
const SWAGGER_LOGO_STYLE = '.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}';
const swaggerLogoStyleHash = `'sha256-${createHash('sha256').update(SWAGGER_LOGO_STYLE).digest('base64')}'`;

/**
 * One policy for every page the service serves (/status, the web app at / and /ideas/:id, and the Swagger UI at
 * /api/docs): their own scripts, styles and data: images, and fetches to this origin — nothing else.
 * No upgrade-insecure-requests: the service itself speaks plain HTTP (TLS, if any, ends at a proxy),
 * and the directive would send the pages' own assets to an https:// port that does not exist.
 */
const DOCUMENT_POLICY = {
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
};

/** Routes that answer with HTML a browser renders (Swagger UI's static folder holds pages too). */
const DOCUMENT_ROUTES = [/^\/$/, /^\/ideas\//, /^\/status$/, /^\/api\/docs(\/|$)/];
const servesDocuments = (url: string) => DOCUMENT_ROUTES.some((pattern) => pattern.test(url));

/** Security headers, exact-origin CORS and per-IP rate limits, all from the configuration. */
export default fp(
  async function securityPlugin(app) {
    const { config } = app;
    const origins = new Set(allowedOrigins(config));

    // Every response gets helmet's headers (nosniff, HSTS, referrer policy, no framing…); the
    // Content-Security-Policy only governs documents, so only the routes serving pages get it.
    // @fastify/helmet builds helmet's middleware on every request, and the CSP (its directives
    // parsed and validated each time) was most of that cost on every JSON answer (bench/health.bench.ts).
    // Added before helmet registers its own onRoute hook, which turns the route option into the route's config.
    app.addHook('onRoute', (route) => {
      if (servesDocuments(route.url)) route.helmet = { contentSecurityPolicy: DOCUMENT_POLICY };
    });
    await app.register(helmet, {
      contentSecurityPolicy: false,
      // What frame-ancestors 'none' says for the pages, for every other answer too.
      xFrameOptions: { action: 'deny' },
    });

    await app.register(cors, {
      // Browsers send an Origin on every cross-origin request, and it must match exactly. Without one (curl,
      // servers, a page's same-origin GETs) nothing is cross-origin, so no CORS header is needed or sent.
      origin: (origin, cb) => cb(null, origin !== undefined && origins.has(origin)),
      methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      // last-event-id: the SDK resumes an event stream with it (fetch, since EventSource cannot send the key).
      allowedHeaders: ['content-type', 'authorization', 'idempotency-key', 'x-request-id', 'last-event-id'],
      exposedHeaders: [
        'x-request-id',
        'retry-after',
        'x-ratelimit-limit',
        'x-ratelimit-remaining',
        'x-ratelimit-reset',
        'location',
      ],
      maxAge: 600,
    });

    // Cluster mode: one count per client across every instance. While Redis is unreachable the
    // limits are skipped rather than every request waiting on it (health says DEGRADED meanwhile).
    const redis = config.REDIS_URL ? createFailFastRedis(config.REDIS_URL, 'idea2spec-rate-limit') : undefined;
    if (redis) {
      redis.on('error', (err: Error) =>
        app.log.debug({ err: err.message }, 'rate-limit Redis unavailable: limits skipped'),
      );
      app.addHook('onClose', () => closeRedis(redis));
      if (!(await waitUntilReady(redis, 2000)))
        app.log.warn('Redis is not reachable yet: rate limits are skipped until it is');
    }
    await app.register(rateLimit, {
      global: true,
      ...(redis ? { redis, skipOnError: true, nameSpace: 'idea2spec:rate-limit:' } : {}),
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
