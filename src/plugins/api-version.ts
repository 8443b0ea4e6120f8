import type { RouteOptions } from 'fastify';
import fp from 'fastify-plugin';

/** The current API version: every `/api/x` route also answers at `/api/v1/x`, and the documents name the versioned path. */
export const API_VERSION = 'v1';
export const VERSIONED_API = `/api/${API_VERSION}`;

/**
 * The operationIds, one per documented route, so generated clients get stable, readable names.
 * Rule: lowerCamelCase `<verb><Thing>`, the verb one of get (one resource), list (a collection),
 * submit, cancel, delete, download, stream (a long-lived response) or subscribe (the WebSocket);
 * keyed by method and unversioned path, so a route keeps its name when its handler moves.
 * The unversioned alias of a route gets the same name with the suffix `Unversioned`.
 */
export const OPERATION_IDS: Readonly<Record<string, string>> = {
  'POST /api/generate': 'submitIdea',
  'GET /api/job/:jobId/status': 'getJobStatus',
  'GET /api/job/:jobId/events': 'streamJobEvents',
  'POST /api/job/:jobId/cancel': 'cancelJob',
  'GET /api/spec/:id': 'getSpec',
  'GET /api/download/:id': 'downloadSpec',
  'GET /api/history': 'listHistory',
  'GET /api/history/stats': 'getHistoryStats',
  'DELETE /api/history/:id': 'deleteIdea',
  'GET /api/health': 'getHealth',
  'GET /api/live': 'getLiveness',
  'GET /api/ready': 'getReadiness',
  'GET /api/gemini/health': 'getGeminiHealth',
  'GET /api/metrics/summary': 'getMetricsSummary',
  'GET /api/metrics/timeseries': 'getMetricsTimeseries',
  'GET /api/jobs/recent': 'listRecentJobs',
  'GET /api/ws': 'subscribeJobUpdates',
  'GET /metrics': 'getPrometheusMetrics',
  'GET /status': 'getStatusPage',
};
export const ALIAS_SUFFIX = 'Unversioned';

/** The documentation's own routes (Swagger UI, the JSON documents) are not part of the versioned API. */
const UNVERSIONED = /^\/api\/(docs(\/|$)|v\d+\/)/;

export function operationId(method: string, url: string): string | undefined {
  return OPERATION_IDS[`${method} ${url}`];
}

/**
 * Registers `/api/v1/x` beside every `/api/x` route, with the same options, so both paths
 * behave identically. Registered before the plugins that add hooks to routes (rate limit,
 * API key, docs), so each copy gets those hooks once, from them.
 */
export default fp(
  async function apiVersionPlugin(app) {
    app.addHook('onRoute', function versionRoute(route: RouteOptions) {
      const method = [route.method].flat()[0];
      // Fastify adds HEAD beside every GET itself, the versioned GET's included.
      if (method === 'HEAD') return;
      const unversioned = route.url.startsWith('/api/') && !UNVERSIONED.test(route.url);
      const versioned = route.url.startsWith(`${VERSIONED_API}/`);
      const key = versioned ? route.url.replace(VERSIONED_API, '/api') : route.url;
      const id = operationId(method, key);
      if (versioned || !unversioned) {
        if (id) route.schema = { ...route.schema, operationId: id };
        return;
      }
      const url = `${VERSIONED_API}${route.url.slice('/api'.length)}`;
      const limit = (route.config as { rateLimit?: unknown } | undefined)?.rateLimit;
      if (limit && typeof limit === 'object' && typeof this.rateLimit === 'function') {
        // One counter for both paths: @fastify/rate-limit gives each route with its own limit its own
        // store, so a client alternating /api/x and /api/v1/x would otherwise get twice the limit.
        const shared = this.rateLimit(limit);
        route.config = { ...route.config, rateLimit: false };
        route.onRequest = [shared, ...[route.onRequest ?? []].flat()];
      }
      this.route({ ...route, url });
      route.schema = {
        ...route.schema,
        ...(id ? { operationId: `${id}${ALIAS_SUFFIX}` } : {}),
        description: [`Alias of \`${url}\`, the current version (${API_VERSION}).`, route.schema?.description]
          .filter(Boolean)
          .join(' '),
      };
    });
  },
  { name: 'api-version' },
);
