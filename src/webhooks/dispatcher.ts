import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { Webhook } from 'standardwebhooks';
import type { Config } from '../config.js';
import type { IdeaRepository } from '../db/ideas-repository.js';
import type { WebhookDeliveryRow } from '../db/schema.js';
import type { WebhookRepository } from '../db/webhook-repository.js';
import { backoffDelay } from '../generators/backoff.js';
import { lastEventFromRow } from '../jobs/job.js';
import type { JobRegistry } from '../jobs/registry.js';
import { Errors } from '../errors.js';
import { isTerminal } from '../jobs/transitions.js';
import type { JobEvent } from '../schemas/jobs.js';
import { resolveWebhookTarget, systemResolver, WebhookTargetError, type Resolver } from './address-policy.js';
import { postPinned } from './post.js';

export interface DispatcherDeps {
  config: Config;
  deliveries: WebhookRepository;
  ideas: IdeaRepository;
  jobs: JobRegistry;
  log: FastifyBaseLogger;
  resolve?: Resolver;
}

/** Deliveries started per scan; the rest wait for the next one. */
const BATCH = 20;

/**
 * Tells a job's webhook how the job ended, at least once: the final event is stored before the
 * first attempt, failed attempts are retried with backoff (full jitter) until WEBHOOK_MAX_ATTEMPTS,
 * and whatever is still owed when the process stops is picked up by the next one.
 * Each POST is signed per Standard Webhooks; its webhook-id is the same on every retry.
 */
export class WebhookDispatcher {
  private readonly signer: Webhook | undefined;
  private readonly inFlight = new Set<number>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly deps: DispatcherDeps) {
    this.signer = deps.config.WEBHOOK_SECRET ? new Webhook(deps.config.WEBHOOK_SECRET) : undefined;
  }

  get enabled(): boolean {
    return this.signer !== undefined;
  }

  /**
   * The check at POST time: webhooks configured, the scheme allowed, and no refused address, whether
   * written in the URL or what its name resolves to now (a name that does not resolve yet is let through:
   * every delivery checks again).
   */
  async checkTarget(url: string): Promise<void> {
    if (!this.enabled) throw new Errors.WebhooksNotConfigured();
    try {
      await resolveWebhookTarget(url, this.deps.config, this.deps.resolve ?? systemResolver);
    } catch (err) {
      if (err instanceof WebhookTargetError && !err.unresolved) throw new Errors.InvalidWebhookUrl(err.message);
      if (!(err instanceof WebhookTargetError)) throw err;
    }
  }

  /** Remembers a new job's webhook; if the job has already ended (a fast generator), its delivery starts now. */
  async register(ideaId: number, jobId: string, url: string): Promise<void> {
    await this.deps.deliveries.insert({ ideaId, jobId, url, webhookId: `msg_${randomUUID()}` });
    const last = await this.deps.jobs.lastEvent(jobId);
    if (last && isTerminal(last.status)) await this.jobEnded(ideaId, last);
  }

  /** Called for every job event; only the terminal one matters. */
  onJobEvent(event: JobEvent): void {
    if (!isTerminal(event.status)) return;
    this.track(this.jobEnded(event.ideaId, event));
  }

  /** At start: deliveries a previous process left waiting for jobs that have since ended. */
  async recover(): Promise<void> {
    for (const { ideaId } of await this.deps.deliveries.waitingForFinishedJobs()) {
      const row = await this.deps.ideas.findById(ideaId);
      if (row) await this.jobEnded(ideaId, lastEventFromRow(row));
    }
  }

  /** Starts every delivery that is due; deliveries already under way are left alone. */
  async scan(now = Date.now()): Promise<void> {
    if (this.closed || !this.signer) return;
    for (const row of await this.deps.deliveries.due(now, BATCH)) {
      if (this.inFlight.has(row.ideaId)) continue;
      this.track(this.attempt(row));
    }
  }

  /** Waits for the attempts under way; no new ones start. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.running);
  }

  private track(work: Promise<void>): void {
    const settled = work
      .catch((err: unknown) => this.deps.log.error({ err }, 'webhook delivery failed unexpectedly'))
      .finally(() => this.running.delete(settled));
    this.running.add(settled);
  }

  private async jobEnded(ideaId: number, event: JobEvent | undefined): Promise<void> {
    if (!event) return;
    if (await this.deps.deliveries.markPending(ideaId, JSON.stringify(event))) await this.scan();
  }

  private async attempt(row: WebhookDeliveryRow): Promise<void> {
    const { config, deliveries, log } = this.deps;
    this.inFlight.add(row.ideaId);
    const attempts = row.attempts + 1;
    try {
      const payload = row.payload ?? '{}';
      let statusCode: number | null = null;
      let problem: string | undefined;
      let final = false;
      try {
        const target = await resolveWebhookTarget(row.url, config, this.deps.resolve ?? systemResolver);
        const headers = { 'webhook-id': row.webhookId, 'webhook-timestamp': '', 'webhook-signature': '' };
        const now = new Date();
        headers['webhook-timestamp'] = String(Math.floor(now.getTime() / 1000));
        headers['webhook-signature'] = this.signer!.sign(row.webhookId, now, payload);
        ({ statusCode } = await postPinned(target, payload, headers, config.WEBHOOK_TIMEOUT_MS));
        if (statusCode < 200 || statusCode >= 300)
          problem = `the receiver answered ${statusCode}${statusCode >= 300 && statusCode < 400 ? ' (redirects are not followed)' : ''}`;
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
        // A refused address stays refused: retrying would only knock on it again.
        final = err instanceof WebhookTargetError && !err.unresolved;
      }
      const now = Date.now();
      if (problem === undefined) {
        await deliveries.recordAttempt(row.ideaId, {
          status: 'delivered',
          attempts,
          nextAttemptAt: null,
          lastStatusCode: statusCode,
          lastError: null,
          deliveredAt: now,
        });
        log.info({ ideaId: row.ideaId, attempts, statusCode }, 'webhook delivered');
        return;
      }
      const failed = final || attempts >= config.WEBHOOK_MAX_ATTEMPTS;
      const nextAttemptAt = failed
        ? null
        : now + backoffDelay(attempts, config.WEBHOOK_RETRY_BASE_MS, config.WEBHOOK_RETRY_MAX_MS);
      await deliveries.recordAttempt(row.ideaId, {
        status: failed ? 'failed' : 'pending',
        attempts,
        nextAttemptAt,
        lastStatusCode: statusCode,
        lastError: problem.slice(0, 500),
        deliveredAt: null,
      });
      log.warn({ ideaId: row.ideaId, attempts, statusCode, problem, gaveUp: failed }, 'webhook attempt failed');
    } finally {
      this.inFlight.delete(row.ideaId);
    }
  }
}
