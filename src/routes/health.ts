import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { geminiProbeStatusCode } from '../health/status.js';
import { GeminiHealth, HealthReport, Liveness, Readiness } from '../schemas/health.js';

/** Probes must always see the current state, never a copy cached along the way. */
const NO_STORE = 'no-store';

/** Health for people and probes: every answer comes from the sampler's cache. */
const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Overall status with per-service detail (503 only when DOWN)',
        description:
          'OK, DEGRADED (works, but something is missing or slow: see `reasons`) or DOWN (no database, or migrations not applied). Served from checks a background sampler refreshes every HEALTH_SAMPLE_MS; a request never runs a check or starts a process.',
        response: { 200: HealthReport, 503: HealthReport },
      },
    },
    async (_request, reply) => {
      const report = app.health.report();
      return reply
        .code(report.status === 'DOWN' ? 503 : 200)
        .header('cache-control', NO_STORE)
        .send(report);
    },
  );

  app.get(
    '/api/live',
    { schema: { tags: ['health'], summary: 'Liveness: the process is serving requests', response: { 200: Liveness } } },
    async (_request, reply) => reply.header('cache-control', NO_STORE).send(app.health.liveness()),
  );

  app.get(
    '/api/ready',
    {
      schema: {
        tags: ['health'],
        summary:
          'Readiness: the database answers, takes writes and has its migrations applied (503 otherwise, and from the moment shutdown begins)',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const readiness = app.health.readiness();
      return reply
        .code(readiness.ready ? 200 : 503)
        .header('cache-control', NO_STORE)
        .send(readiness);
    },
  );

  app.get(
    '/api/gemini/health',
    {
      schema: {
        tags: ['health'],
        summary:
          'The Gemini CLI: version, configuration, circuit state, active generator (503 only when the CLI is the active generator and not ready)',
        description:
          'Cached and single-flight. `refresh=true` starts a new `gemini --version` check, at most one every few seconds; concurrent callers share it.',
        querystring: Type.Object({
          refresh: Type.Optional(
            Type.Boolean({ description: 'Run a new check (rate-limited) and answer with its result' }),
          ),
        }),
        response: { 200: GeminiHealth, 503: GeminiHealth },
      },
    },
    async (request, reply) => {
      const health = await app.health.gemini(request.query.refresh === true);
      return reply.code(geminiProbeStatusCode(health)).header('cache-control', NO_STORE).send(health);
    },
  );
};

export default healthRoutes;
