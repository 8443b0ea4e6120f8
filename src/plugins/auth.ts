import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { Errors } from '../errors.js';
import { ErrorResponse } from '../schemas/common.js';

/** The WebSocket subprotocol browsers offer, with `bearer.<API_KEY>` beside it (browsers cannot set Authorization on a WebSocket). */
export const WS_PROTOCOL = 'idea2spec';
const WS_TOKEN_PREFIX = 'bearer.';

/**
 * Open with API_KEY set: probes (orchestrators hold no secret), the docs, and the
 * pages with their own scripts and styles — a page holds no data, and the data
 * calls it makes still need the key.
 */
const ALWAYS_OPEN = [
  // probes
  /^\/api\/health(\/|$)/,
  /^\/api\/(live|ready)$/,
  /^\/api\/gemini\/health$/,
  // docs
  /^\/api\/docs(\/|$)/,
  // pages and their assets
  /^\/$/,
  /^\/ideas\//,
  /^\/assets\//,
  /^\/status(\/status\.(js|css))?$/,
];
const METRICS = [/^\/metrics$/, /^\/api\/metrics(\/|$)/];

/** `/api/v1/x` is the same route as `/api/x`: the patterns are written once, for the unversioned path. */
const VERSION_PREFIX = /^\/api\/v\d+(?=\/|$)/;

/** Whether a route needs the API key: everything does unless it is listed open, so a new route is protected by default. */
export function requiresApiKey(
  path: string,
  method: RouteOptions['method'],
  config: Pick<Config, 'API_KEY' | 'METRICS_REQUIRE_API_KEY'>,
): boolean {
  if (!config.API_KEY) return false;
  const url = path.replace(VERSION_PREFIX, '/api');
  // CORS preflights never carry credentials.
  if ([method].flat().every((m) => m === 'OPTIONS')) return false;
  if (ALWAYS_OPEN.some((open) => open.test(url))) return false;
  if (METRICS.some((metrics) => metrics.test(url))) return config.METRICS_REQUIRE_API_KEY;
  return true;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Optional API key (API_KEY): when set, every route but the probes, the docs and
 * the pages (and /metrics unless METRICS_REQUIRE_API_KEY) needs
 * `Authorization: Bearer <key>`; a WebSocket may instead offer the subprotocols
 * `idea2spec, bearer.<key>`. Never a query string: URLs end up in logs.
 * Failed checks answer 401 after the rate limit has counted them.
 */
export default fp(
  async function authPlugin(app) {
    const { config } = app;
    if (!config.API_KEY) {
      app.addHook('onListen', async () => {
        const exposed = app.addresses().flatMap((a) => (typeof a === 'string' || isLoopback(a.address) ? [] : [a]));
        if (exposed.length === 0) return;
        app.log.warn(
          { addresses: exposed.map((a) => `${a.address}:${a.port}`) },
          'listening beyond loopback without API_KEY: every route, job data included, is open to anyone who can reach these addresses; set API_KEY, or HOST=127.0.0.1',
        );
      });
      return;
    }
    // Digests have one length whatever the caller sends, so the comparison takes the same time for every guess.
    const expected = digest(config.API_KEY);
    const matches = (token: string) => timingSafeEqual(digest(token), expected);

    const checkApiKey = async (request: FastifyRequest, reply: FastifyReply) => {
      const token =
        bearerToken(request.headers.authorization) ?? subprotocolToken(request.headers['sec-websocket-protocol']);
      if (token !== undefined && matches(token)) return;
      void reply.header(
        'www-authenticate',
        token === undefined ? 'Bearer realm="idea2spec"' : 'Bearer realm="idea2spec", error="invalid_token"',
      );
      throw new Errors.Unauthorized(
        token === undefined
          ? 'This route needs the API key: send Authorization: Bearer <API_KEY>'
          : 'The API key is not valid',
      );
    };

    app.addHook('onRoute', (route) => {
      if (!requiresApiKey(route.url, route.method, config)) return;
      route.schema = {
        ...route.schema,
        security: [{ bearerAuth: [] }],
        response: { ...(route.schema?.response as object | undefined), 401: ErrorResponse },
      };
      // Appended, so the rate limit (added by the security plugin's onRoute) counts failed guesses first.
      route.onRequest = [...[route.onRequest ?? []].flat(), checkApiKey];
    });
  },
  { name: 'auth', dependencies: ['config', 'errors', 'security'] },
);

function isLoopback(address: string): boolean {
  return /^(127\.|::1$|::ffff:127\.)/.test(address);
}

function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

function subprotocolToken(header: string | undefined): string | undefined {
  const offered = header
    ?.split(',')
    .map((p) => p.trim())
    .find((p) => p.startsWith(WS_TOKEN_PREFIX));
  return offered?.slice(WS_TOKEN_PREFIX.length) || undefined;
}
