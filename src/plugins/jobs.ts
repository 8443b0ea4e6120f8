import fp from 'fastify-plugin';
import { JobRegistry } from '../jobs/registry.js';

declare module 'fastify' {
  interface FastifyInstance {
    jobs: JobRegistry;
  }
}

/**
 * The job registry. Unfinished jobs from a previous run are recovered before the
 * server listens; on close, running jobs get SHUTDOWN_GRACE_MS to finish and the
 * rest are left queued for the next start.
 */
export default fp(
  async function jobsPlugin(app) {
    const registry = new JobRegistry({ config: app.config, ideas: app.ideas, generator: app.generator, circuit: app.circuit, log: app.log });
    app.decorate('jobs', registry);
    await registry.recover();
    app.addHook('preClose', async () => registry.shutdown(app.config.SHUTDOWN_GRACE_MS));
  },
  { name: 'jobs', dependencies: ['config', 'db', 'gemini'] },
);
