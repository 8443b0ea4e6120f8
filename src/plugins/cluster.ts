import fp from 'fastify-plugin';
import { Presence } from '../cluster/presence.js';
import type { ClusterInstance } from '../schemas/health.js';

export interface Cluster {
  /** REDIS_URL is set: several instances share Redis. */
  enabled: boolean;
  /** Names this instance in the cluster's shared state. */
  instanceId: string;
  /** Cluster mode: the instances alive at the last heartbeat, this one first (never waits on Redis). One process: none. */
  instances(): ClusterInstance[];
}

declare module 'fastify' {
  interface FastifyInstance {
    cluster: Cluster;
  }
}

/** Cluster presence: with REDIS_URL each instance heartbeats into Redis with the jobs it runs, from ready until close. */
export default fp(
  async function clusterPlugin(app) {
    const { config } = app;
    // The name job control already uses for this instance: one name per instance everywhere.
    const instanceId = app.instanceId;
    if (!config.REDIS_URL) {
      app.decorate('cluster', { enabled: false, instanceId, instances: () => [] });
      return;
    }
    const presence = new Presence({
      url: config.REDIS_URL,
      id: instanceId,
      role: config.ROLE,
      runningJobIds: () => app.jobs.runningJobIds(),
      onRedisError: (err) => app.log.debug({ err: err.message }, 'presence Redis unavailable: heartbeats paused'),
    });
    app.decorate('cluster', { enabled: true, instanceId, instances: () => presence.instances() });
    app.addHook('onReady', async () => presence.start());
    app.addHook('onClose', () => presence.close());
  },
  { name: 'cluster', dependencies: ['config', 'jobs'] },
);
