import fp from 'fastify-plugin';
import { JobRegistry } from '../jobs/registry.js';
import type { EventLog } from '../jobs/stores/event-log.js';
import { MemoryJobControl } from '../jobs/stores/memory-control.js';
import { MemoryEventLog } from '../jobs/stores/memory-event-log.js';
import { MemoryJobQueue } from '../jobs/stores/memory-queue.js';

declare module 'fastify' {
  interface FastifyInstance {
    jobs: JobRegistry;
    /** Every job's numbered events and text so far: what WebSocket subscriptions read. */
    jobEvents: EventLog;
  }
}

/**
 * The job registry, and the one place where the shared-state seams get their
 * implementation: the queue, the event log and job control are in-memory here
 * (one process); cluster mode swaps in shared ones without touching their users.
 * Unfinished jobs from a previous run are recovered before the server listens;
 * on close, running jobs get SHUTDOWN_GRACE_MS to finish and the rest are left
 * queued for the next start.
 */
export default fp(
  async function jobsPlugin(app) {
    const { config } = app;
    const queue = new MemoryJobQueue({ concurrency: config.JOB_CONCURRENCY, limit: config.JOB_QUEUE_LIMIT });
    const events = new MemoryEventLog();
    const control = new MemoryJobControl();
    const registry = new JobRegistry({
      config,
      ideas: app.ideas,
      generator: app.generator,
      circuit: app.circuit,
      log: app.log,
      queue,
      events,
      control,
    });
    app.decorate('jobs', registry);
    app.decorate('jobEvents', events);
    await registry.recover();
    app.addHook('preClose', async () => registry.shutdown(config.SHUTDOWN_GRACE_MS));
    app.addHook('onClose', async () => {
      await Promise.all([events.close(), control.close()]);
    });
  },
  { name: 'jobs', dependencies: ['config', 'db', 'gemini'] },
);
