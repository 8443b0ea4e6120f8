import type { IdeaDetail } from '../schemas/ideas.js';
import type { GenerateAccepted, GenerateBody, JobEvent, JobSnapshot } from '../schemas/jobs.js';
import { Idea2SpecError, JobCancelledError, JobFailedError } from './errors.js';
import { readJobEvents } from './event-stream.js';
import { Http } from './http.js';
import { JobChannel } from './job-channel.js';
import { JobFollower } from './job-follower.js';
import { Timers } from './timers.js';
import type {
  ClientOptions,
  DeletedIdea,
  DownloadedSpec,
  MetricsSummary,
  FollowOptions,
  GenerateOptions,
  HealthReport,
  HistoryPage,
  HistoryQuery,
  RequestOptions,
} from './types.js';
import { defaultWebSocketFactory } from './websocket.js';

/** A client of one idea2spec service. Call close() when done: it releases the socket and every timer. */
export class Idea2SpecClient {
  private readonly http: Http;
  private readonly timers = new Timers();
  private readonly channel: JobChannel;
  private readonly followers = new Set<JobFollower>();
  private readonly pollIntervalMs: number;
  private readonly staleAfterMs: number;
  private readonly sse: boolean;
  private closed = false;

  constructor(options: ClientOptions) {
    const baseUrl = new URL(options.baseUrl).toString();
    this.http = new Http({
      baseUrl,
      apiKey: options.apiKey,
      timeoutMs: options.timeoutMs ?? 30_000,
      retries: options.retries ?? 2,
      retryBaseMs: 250,
      retryMaxMs: 10_000,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      timers: this.timers,
    });
    this.channel = new JobChannel({
      url: options.wsUrl ?? defaultWsUrl(baseUrl),
      factory: options.webSocket ?? defaultWebSocketFactory(options.apiKey),
      timers: this.timers,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      heartbeatMs: options.heartbeatMs ?? 25_000,
      reconnectBaseMs: options.reconnectBaseMs ?? 500,
      reconnectMaxMs: options.reconnectMaxMs ?? 15_000,
    });
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.staleAfterMs = options.staleAfterMs ?? 15_000;
    this.sse = options.sse ?? true;
  }

  /** Submits the idea, follows its job live, and resolves with the finished idea (JobFailedError / JobCancelledError otherwise). */
  async generateSpec(idea: string, options: GenerateOptions = {}): Promise<IdeaDetail> {
    const accepted = await this.submit(idea, options);
    options.onAccepted?.(accepted);
    const end = await this.followJob(accepted.jobId, options);
    if (end.status === 'failed') throw new JobFailedError(end.jobId, end.ideaId, end.error, end.message);
    if (end.status === 'cancelled') throw new JobCancelledError(end.jobId, end.ideaId);
    return this.getSpec(accepted.id, options);
  }

  /** POST /api/generate (202). Always carries an Idempotency-Key, which is what makes retrying it safe. */
  async submit(
    idea: string,
    options: Pick<GenerateOptions, 'template' | 'model' | 'idempotencyKey' | 'signal'> = {},
  ): Promise<GenerateAccepted> {
    const body: GenerateBody = {
      idea,
      ...(options.template ? { template: options.template } : {}),
      ...(options.model ? { model: options.model } : {}),
    };
    const { body: accepted } = await this.http.request<GenerateAccepted>('POST', '/api/generate', {
      body,
      idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
      signal: options.signal,
    });
    return accepted;
  }

  /** Follows a job until it ends; resolves with its last update (completed, failed or cancelled alike). */
  followJob(jobId: string, options: FollowOptions = {}): Promise<JobEvent> {
    if (this.closed) return Promise.reject(closedError());
    const eventStream = this.sse
      ? (id: string, afterSeq: number, signal: AbortSignal, onEvent: (event: JobEvent) => void) =>
          readJobEvents(this.http, id, afterSeq, signal, onEvent)
      : undefined;
    const follower = new JobFollower(
      jobId,
      {
        channel: this.channel,
        http: this.http,
        timers: this.timers,
        pollIntervalMs: this.pollIntervalMs,
        staleAfterMs: this.staleAfterMs,
        maxPollFailures: 8,
        eventStream,
      },
      options,
    );
    this.followers.add(follower);
    const forget = () => this.followers.delete(follower);
    follower.done.then(forget, forget);
    return follower.done;
  }

  async jobStatus(jobId: string, options: RequestOptions = {}): Promise<JobSnapshot> {
    return (await this.http.request<JobSnapshot>('GET', `/api/job/${encodeURIComponent(jobId)}/status`, options)).body;
  }

  /** Cancels the job and kills its generator (ApiError JOB_ALREADY_FINISHED, 409, when it had ended). Never retried: it has no Idempotency-Key. */
  async cancel(jobId: string, options: RequestOptions = {}): Promise<JobSnapshot> {
    return (await this.http.request<JobSnapshot>('POST', `/api/job/${encodeURIComponent(jobId)}/cancel`, options)).body;
  }

  async history(query: HistoryQuery = {}, options: RequestOptions = {}): Promise<HistoryPage> {
    return (await this.http.request<HistoryPage>('GET', '/api/history', { query: { ...query }, ...options })).body;
  }

  /** Full-text search over ideas and specs: history() with `search`. */
  search(text: string, query: Omit<HistoryQuery, 'search'> = {}, options: RequestOptions = {}): Promise<HistoryPage> {
    return this.history({ ...query, search: text }, options);
  }

  async getSpec(id: number, options: RequestOptions = {}): Promise<IdeaDetail> {
    return (await this.http.request<IdeaDetail>('GET', `/api/spec/${id}`, { signal: options.signal })).body;
  }

  /** The completed specification as Markdown, with the file name the service suggests. */
  async download(id: number, options: RequestOptions = {}): Promise<DownloadedSpec> {
    const { headers, body } = await this.http.request<string>('GET', `/api/download/${id}`, options);
    return { fileName: fileNameOf(headers.get('content-disposition')) ?? `spec-${id}.md`, text: body };
  }

  /** Deletes the idea (its job is cancelled first). Not retried: a repeat would answer 404. */
  async delete(id: number, options: RequestOptions = {}): Promise<DeletedIdea> {
    return (await this.http.request<DeletedIdea>('DELETE', `/api/history/${id}`, options)).body;
  }

  /** The service's health; a DOWN service answers 503 with the same report, which is returned, not thrown. */
  async health(options: RequestOptions = {}): Promise<HealthReport> {
    return (await this.http.request<HealthReport>('GET', '/api/health', { ...options, accept: [503] })).body;
  }

  /** Per-route request figures over a window such as "15m". */
  async metricsSummary(window = '15m', options: RequestOptions = {}): Promise<MetricsSummary> {
    return (await this.http.request<MetricsSummary>('GET', '/api/metrics/summary', { query: { window }, ...options }))
      .body;
  }

  /** Stops every follow (their promises reject with CLIENT_CLOSED), closes the socket and clears all timers. */
  close(): void {
    this.closed = true;
    for (const follower of this.followers) follower.stop(closedError());
    this.channel.close();
    this.timers.clear();
  }
}

export function createClient(options: ClientOptions): Idea2SpecClient {
  return new Idea2SpecClient(options);
}

function closedError(): Idea2SpecError {
  return new Idea2SpecError('CLIENT_CLOSED', 'The client was closed');
}

function defaultWsUrl(baseUrl: string): string {
  const url = new URL('/api/ws', baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** Random enough to never collide; crypto.randomUUID is missing on plain-http pages, getRandomValues is not. */
function newIdempotencyKey(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function fileNameOf(disposition: string | null): string | undefined {
  if (!disposition) return undefined;
  const extended = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
  if (extended) {
    try {
      return decodeURIComponent(extended);
    } catch {
      // a malformed escape: fall back to the plain name
    }
  }
  return /filename="([^"]*)"/i.exec(disposition)?.[1];
}
