import fp from 'fastify-plugin';
import { databaseFilePath } from '../db/client.js';
import { watchDatabaseFile } from '../db/file-identity.js';
import { GeminiHealthCheck } from '../gemini/health-check.js';
import { RedisProbe } from '../health/redis-probe.js';
import { HealthSampler, uptimeSeconds } from '../health/sampler.js';
import type { GeminiHealth, HealthReport, Liveness, Readiness } from '../schemas/health.js';

declare module 'fastify' {
  interface FastifyInstance {
    health: {
      /** The aggregate report from cached checks. */
      report(): HealthReport;
      readiness(): Readiness;
      liveness(): Liveness;
      /** The cached Gemini CLI check; `refresh` forces a new one (at most one start every few seconds). */
      gemini(refresh: boolean): Promise<GeminiHealth>;
    };
  }
}

export interface HealthPluginOptions {
  /** The environment the Gemini CLI check runs with (the generator's; default process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Health from a background sampler: the routes only read what it cached, so no
 * number of probes can start a process or run a query.
 */
export default fp<HealthPluginOptions>(
  async function healthPlugin(app, opts) {
    const { config } = app;
    const gemini = new GeminiHealthCheck(config, opts.env ?? process.env, app.generator, () => app.circuit.state());
    const redis = config.REDIS_URL ? new RedisProbe(config.REDIS_URL) : undefined;
    const sampler = new HealthSampler({
      config,
      health: app.healthLogs,
      jobActivity: app.jobActivity,
      gemini,
      jobs: app.jobs,
      wsStats: app.wsStats,
      redis,
      instances: app.cluster.enabled ? () => app.cluster.instances() : undefined,
      databaseFile: watchDatabaseFile(databaseFilePath(config.TURSO_DATABASE_URL)),
      log: app.log.child({ component: 'health' }),
    });
    app.decorate('health', {
      report: () => sampler.report(),
      readiness: () => sampler.readiness(),
      liveness: () => ({ status: 'alive' as const, uptime: uptimeSeconds() }),
      gemini: (refresh: boolean) => (refresh ? gemini.refresh() : Promise.resolve(gemini.view())),
    });

    app.addHook('onReady', async () => sampler.start());
    app.addHook('onClose', async () => {
      await Promise.all([sampler.close(), gemini.close()]);
      await redis?.close();
    });
  },
  { name: 'health', dependencies: ['config', 'db', 'gemini', 'jobs', 'websocket', 'cluster'] },
);
