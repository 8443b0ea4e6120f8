import fp from 'fastify-plugin';
import { SharedCircuitBreaker } from '../cluster/shared-circuit-breaker.js';
import { CircuitBreaker, withCircuitBreaker, type CircuitBreakerOptions } from '../generators/circuit-breaker.js';
import type { Generator } from '../generators/generator.js';
import { createGenerator } from '../generators/select.js';

declare module 'fastify' {
  interface FastifyInstance {
    generator: Generator;
    /** The breaker in front of the generator (shared through Redis in cluster mode); `circuit.state()` is what /api/gemini/health shows. */
    circuit: CircuitBreaker;
  }
}

export interface GeminiPluginOptions {
  /** The environment the generator's allow-list is drawn from (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * The generator chosen by GENERATOR (auto: gemini with credentials, else offline), behind a circuit
 * breaker: this process's own, or with REDIS_URL one whose state every instance shares.
 */
export default fp<GeminiPluginOptions>(
  async function geminiPlugin(app, opts) {
    const options: CircuitBreakerOptions = {
      threshold: app.config.CIRCUIT_FAILURE_THRESHOLD,
      cooldownMs: app.config.CIRCUIT_COOLDOWN_MS,
      onChange: (to, from) => {
        const line = { circuit: to, from };
        if (to.state === 'open')
          app.log.warn(line, 'generator circuit opened: attempts fail fast until the cool-down ends');
        else app.log.info(line, `generator circuit ${to.state}`);
      },
    };
    const url = app.config.REDIS_URL;
    let circuit: CircuitBreaker;
    if (url) {
      const shared = new SharedCircuitBreaker({
        ...options,
        url,
        onRedisError: (err) =>
          app.log.debug({ err: err.message }, 'circuit Redis unavailable: this instance counts failures on its own'),
      });
      app.addHook('onClose', () => shared.close());
      circuit = shared;
    } else circuit = new CircuitBreaker(options);
    const generator = withCircuitBreaker(createGenerator(app.config, opts.env ?? process.env), circuit);
    app.decorate('generator', generator);
    app.decorate('circuit', circuit);
    app.log.info({ generator: generator.name, requested: app.config.GENERATOR }, `generator: ${generator.name}`);
  },
  { name: 'gemini', dependencies: ['config'] },
);
