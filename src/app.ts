import { randomUUID } from 'node:crypto';
import { fastifySSE } from '@fastify/sse';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { trustProxyOption, type Config } from './config.js';
import { loggerOptions, RequestLogController } from './logger.js';
import apiVersionPlugin from './plugins/api-version.js';
import authPlugin from './plugins/auth.js';
import clusterPlugin from './plugins/cluster.js';
import configPlugin from './plugins/config.js';
import dbPlugin from './plugins/db.js';
import docsPlugin from './plugins/docs.js';
import errorsPlugin, { frameworkErrorHandler } from './plugins/errors.js';
import geminiPlugin from './plugins/gemini.js';
import healthPlugin from './plugins/health.js';
import jobsPlugin from './plugins/jobs.js';
import metricsPlugin from './plugins/metrics.js';
import securityPlugin from './plugins/security.js';
import webAppPlugin from './plugins/web-app.js';
import webhooksPlugin from './plugins/webhooks.js';
import websocketPlugin from './plugins/websocket.js';
import type { Resolver } from './webhooks/address-policy.js';
import eventRoutes from './routes/events.js';
import generateRoutes from './routes/generate.js';
import healthRoutes from './routes/health.js';
import historyRoutes from './routes/history.js';
import jobRoutes from './routes/jobs.js';
import metricsRoutes from './routes/metrics.js';
import specRoutes from './routes/spec.js';
import statusPageRoutes from './routes/status-page.js';
import webAppRoutes from './routes/web-app.js';
import wsRoutes from './routes/ws.js';
import { validatorCompiler } from './http/validator-compiler.js';

export interface BuildAppOptions {
  config: Config;
  /** Overrides the logger built from the configuration (tests pass false or a stream). */
  logger?: FastifyServerOptions['logger'];
  /** The environment the generator's allow-list is drawn from (default: process.env). */
  generatorEnv?: NodeJS.ProcessEnv;
  /** How webhook hosts are resolved (default: the system's resolver). */
  webhookResolver?: Resolver;
  /** Where the built web app is (default dist/web; tests build one of their own). */
  webRoot?: string;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The whole service as an instance: production and tests build it the same way. */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config),
    // A caller's x-request-id is kept when it is a plain token, so logs can be joined across services.
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    logController: new RequestLogController(),
    // Behind a balancer: the client's address and protocol come from X-Forwarded-* sent by the proxies named here.
    trustProxy: trustProxyOption(config.TRUST_PROXY),
    bodyLimit: 64 * 1024,
    connectionTimeout: 0,
    keepAliveTimeout: 72_000,
    frameworkErrors: frameworkErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler());

  // Plugins, in dependency order: each one declares what it needs.
  await app.register(configPlugin, { config });
  // First: its onRoute hook copies each /api route to /api/v1 before the other plugins' hooks see either.
  await app.register(apiVersionPlugin);
  await app.register(errorsPlugin);
  await app.register(securityPlugin);
  await app.register(authPlugin);
  await app.register(docsPlugin);
  await app.register(dbPlugin);
  await app.register(geminiPlugin, { env: options.generatorEnv });
  await app.register(jobsPlugin);
  await app.register(clusterPlugin);
  await app.register(webhooksPlugin, { resolve: options.webhookResolver });
  await app.register(fastifySSE, { heartbeatInterval: config.SSE_HEARTBEAT_MS });
  await app.register(websocketPlugin);
  await app.register(metricsPlugin);
  await app.register(healthPlugin, { env: options.generatorEnv });
  await app.register(webAppPlugin, { root: options.webRoot });

  // Routes: encapsulated, they only use what the plugins decorate.
  await app.register(generateRoutes);
  await app.register(jobRoutes);
  await app.register(eventRoutes);
  await app.register(specRoutes);
  await app.register(historyRoutes);
  await app.register(wsRoutes);
  await app.register(healthRoutes);
  await app.register(metricsRoutes);
  await app.register(statusPageRoutes);
  await app.register(webAppRoutes);

  return app;
}
