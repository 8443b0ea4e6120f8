import fp from 'fastify-plugin';
import type { Client } from '@libsql/client';
import { createBigramIndexer } from '../db/bigram-index.js';
import { isLocalUrl, openDatabase, type Database } from '../db/client.js';
import { createHealthRepository, type HealthRepository } from '../db/health-repository.js';
import { createHistoryRepository, type HistoryRepository } from '../db/history-repository.js';
import { createIdeaRepository, type IdeaRepository } from '../db/ideas-repository.js';
import { createJobActivityRepository, type JobActivityRepository } from '../db/job-activity-repository.js';
import { createMetricsRepository, type MetricsRepository } from '../db/metrics-repository.js';
import { maintainIfDue } from '../db/maintenance.js';
import { createWebhookRepository, type WebhookRepository } from '../db/webhook-repository.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Database;
    dbClient: Client;
    ideas: IdeaRepository;
    history: HistoryRepository;
    /** health_logs: the health sampler's rows and the dashboard's system series. */
    healthLogs: HealthRepository;
    /** Finished jobs over time, for health and the dashboard. */
    jobActivity: JobActivityRepository;
    /** performance_metrics: response times. */
    performanceMetrics: MetricsRepository;
    webhookDeliveries: WebhookRepository;
  }
}

/**
 * Drizzle over libSQL: opened and migrated before the server listens, maintained on a timer, closed last.
 * Every repository is built here, once; the other plugins use these decorators.
 */
export default fp(
  async function dbPlugin(app) {
    const { TURSO_DATABASE_URL, TURSO_AUTH_TOKEN } = app.config;
    const { client, db, leases } = await openDatabase(TURSO_DATABASE_URL, TURSO_AUTH_TOKEN);
    app.decorate('db', db);
    app.decorate('dbClient', client);
    const bigrams = createBigramIndexer(client, {
      onError: (err) => app.log.warn({ err }, 'search index update failed; retrying'),
    });
    // Rows left unindexed by a crash, an upgrade or the seed script.
    await bigrams.catchUpAll();
    app.decorate('ideas', createIdeaRepository(db, bigrams));
    app.decorate('history', createHistoryRepository(client, { rankWindow: app.config.SEARCH_RANK_WINDOW }));
    app.decorate('healthLogs', createHealthRepository(db));
    app.decorate('jobActivity', createJobActivityRepository(db));
    app.decorate('performanceMetrics', createMetricsRepository(db));
    app.decorate('webhookDeliveries', createWebhookRepository(db));

    // Re-armed only after a run ends, so a slow run is never overlapped by the next one; instances
    // sharing the database take turns through a lease, so it is never overlapped by theirs either.
    let running: Promise<void> | undefined;
    let closing = false;
    const maintain = () => {
      running = maintainIfDue(client, leases, {
        metricsRetentionDays: app.config.METRICS_RETENTION_DAYS,
        healthLogRetentionDays: app.config.HEALTH_LOG_RETENTION_DAYS,
        local: isLocalUrl(TURSO_DATABASE_URL),
        intervalMs: app.config.DB_MAINTENANCE_INTERVAL_MS,
      })
        .then((result) =>
          app.log.debug(
            result ?? { skipped: 'another instance holds the maintenance lease' },
            'database maintenance done',
          ),
        )
        .catch((err: unknown) => app.log.warn({ err }, 'database maintenance failed'))
        .finally(() => {
          running = undefined;
          if (!closing) timer.refresh();
        });
    };
    const timer = setTimeout(maintain, app.config.DB_MAINTENANCE_INTERVAL_MS).unref();

    app.addHook('onClose', async () => {
      closing = true;
      clearTimeout(timer);
      await Promise.all([running, bigrams.close()]);
      client.close();
    });
    app.log.info({ url: redactUrl(TURSO_DATABASE_URL) }, 'database ready');
  },
  { name: 'db', dependencies: ['config'] },
);

function redactUrl(url: string): string {
  return url.replace(/\?.*$/, '');
}
