import fp from 'fastify-plugin';
import type { Generator } from '../gemini/generator.js';
import { createGenerator } from '../gemini/select-generator.js';

declare module 'fastify' {
  interface FastifyInstance {
    generator: Generator;
  }
}

export interface GeminiPluginOptions {
  /** The environment the generator's allow-list is drawn from (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/** The generator chosen by GENERATOR (auto: gemini with credentials, else offline). */
export default fp<GeminiPluginOptions>(
  async function geminiPlugin(app, opts) {
    const generator = createGenerator(app.config, opts.env ?? process.env);
    app.decorate('generator', generator);
    app.log.info({ generator: generator.name, requested: app.config.GENERATOR }, `generator: ${generator.name}`);
  },
  { name: 'gemini', dependencies: ['config'] },
);
