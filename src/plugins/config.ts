import fp from 'fastify-plugin';
import type { Config } from '../config.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
  }
}

/** Makes the validated configuration available to every plugin and route. */
export default fp<{ config: Config }>(
  async function configPlugin(app, opts) {
    app.decorate('config', opts.config);
  },
  { name: 'config' },
);
