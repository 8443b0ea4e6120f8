import fp from 'fastify-plugin';
import { WebhookDispatcher } from '../webhooks/dispatcher.js';
import type { Resolver } from '../webhooks/address-policy.js';

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: WebhookDispatcher;
  }
}

export interface WebhooksPluginOptions {
  /** How webhook hosts are resolved (default: the system's resolver); tests stand in a name server here. */
  resolve?: Resolver;
}

/**
 * Webhooks: every job event passes by the dispatcher, which stores the final one of each job that
 * asked for a webhook and delivers it. A timer (unref'd) picks up deliveries that are due again
 * and those a previous process left behind; attempts under way finish before the database closes.
 */
export default fp<WebhooksPluginOptions>(
  async function webhooksPlugin(app, options) {
    const dispatcher = new WebhookDispatcher({
      config: app.config,
      deliveries: app.webhookDeliveries,
      ideas: app.ideas,
      jobs: app.jobs,
      log: app.log.child({ component: 'webhooks' }),
      resolve: options.resolve,
    });
    app.decorate('webhooks', dispatcher);
    const stopObserving = app.jobs.observe((event) => dispatcher.onJobEvent(event));

    let closing = false;
    let tick: Promise<void> | undefined;
    const run = () => {
      if (tick || closing) return;
      tick = dispatcher
        .recover()
        .then(() => dispatcher.scan())
        .catch((err: unknown) => app.log.warn({ err }, 'webhook scan failed'))
        .finally(() => {
          tick = undefined;
          if (!closing) timer.refresh();
        });
    };
    const timer = setTimeout(run, app.config.WEBHOOK_POLL_MS).unref();
    app.addHook('onReady', async () => run());

    app.addHook('onClose', async () => {
      closing = true;
      clearTimeout(timer);
      stopObserving();
      await tick;
      await dispatcher.close();
    });
  },
  { name: 'webhooks', dependencies: ['config', 'db', 'jobs'] },
);
