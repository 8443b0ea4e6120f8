import t from 'tap';
import { lte } from 'drizzle-orm';
import { healthLogs, performanceMetrics } from '../src/db/schema.js';
import { build, waitFor } from './helper.js';

const DAY = 86_400_000;

t.test('maintenance deletes metrics and health logs past their retention, and keeps the rest', async (t) => {
  const app = await build(t, {
    config: { DB_MAINTENANCE_INTERVAL_MS: 50, METRICS_RETENTION_DAYS: 2, HEALTH_LOG_RETENTION_DAYS: 5 },
  });
  const now = Date.now();
  const metric = (ageDays: number) => ({
    route: '/api/history',
    method: 'GET',
    statusCode: 200,
    durationMs: 1.5,
    createdAt: now - ageDays * DAY,
  });
  const log = (ageDays: number) => ({
    service: 'database',
    status: 'ok',
    latencyMs: 1,
    details: {},
    createdAt: now - ageDays * DAY,
  });
  await app.db.insert(performanceMetrics).values([metric(1), metric(3), metric(30)]);
  await app.db.insert(healthLogs).values([log(1), log(3), log(6)]);

  // The running service writes fresh rows of its own (health samples); only the back-dated ones are this test's.
  const oldMetrics = () =>
    app.db
      .select()
      .from(performanceMetrics)
      .where(lte(performanceMetrics.createdAt, now - DAY));
  const oldLogs = () =>
    app.db
      .select()
      .from(healthLogs)
      .where(lte(healthLogs.createdAt, now - DAY));
  await waitFor(async () => (await oldMetrics()).length === 1, { what: 'old metrics to be deleted' });
  await waitFor(async () => (await oldLogs()).length === 2, { what: 'old health logs to be deleted' });
  const [kept] = await oldMetrics();
  t.equal(kept.createdAt, now - DAY, 'the metric within METRICS_RETENTION_DAYS is kept');
  t.same(
    (await oldLogs()).map((l) => l.createdAt).sort(),
    [now - 3 * DAY, now - DAY],
    'logs within HEALTH_LOG_RETENTION_DAYS are kept',
  );
});
