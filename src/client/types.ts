import type { HealthReport } from '../schemas/health.js';
import type {
  DeletedIdea,
  HistoryList as HistoryPage,
  HistoryQuery as HistoryQueryParams,
  IdeaSummary,
} from '../schemas/history.js';
import type { IdeaDetail } from '../schemas/ideas.js';
import type { MetricsSummary } from '../schemas/metrics.js';
import type { GenerateAccepted, GenerateBody, JobEvent, JobSnapshot, JobStatus } from '../schemas/jobs.js';
import type { WebSocketFactory } from './websocket.js';

export type {
  DeletedIdea,
  GenerateAccepted,
  HealthReport,
  HistoryPage,
  IdeaDetail,
  IdeaSummary,
  JobEvent,
  JobSnapshot,
  JobStatus,
  MetricsSummary,
};

export interface ClientOptions {
  /** The service, e.g. https://specs.example.com */
  baseUrl: string;
  /** Default: baseUrl with ws(s):// and the path /api/ws. */
  wsUrl?: string;
  /** Sent as `Authorization: Bearer …` (and on the WebSocket) when the service requires API_KEY. */
  apiKey?: string;
  /** Per HTTP attempt (default 30 s). */
  timeoutMs?: number;
  /** Retries of safe requests on network errors, 429 and 502–504 (default 2). */
  retries?: number;
  /** Between polls while the WebSocket is unavailable (default 1 s). */
  pollIntervalMs?: number;
  /** First reconnect delay; doubles up to reconnectMaxMs, with jitter (defaults 500 ms, 15 s). */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** A socket that has not opened by then counts as failed (default 5 s). */
  connectTimeoutMs?: number;
  /** App-level ping period; a socket silent for a whole period is dropped (default 25 s). */
  heartbeatMs?: number;
  /** While the WebSocket is unavailable, follow jobs over Server-Sent Events before falling back to polling (default true). */
  sse?: boolean;
  /** A followed job silent this long over the WebSocket is checked by one poll (default 15 s). */
  staleAfterMs?: number;
  /** For tests and unusual runtimes. */
  fetch?: typeof fetch;
  webSocket?: WebSocketFactory;
}

/** How a job's updates currently arrive: the WebSocket, else Server-Sent Events, else polling. */
export type Transport = 'websocket' | 'sse' | 'polling';

export interface FollowOptions {
  /**
   * Every update, in order, never twice. Over the WebSocket these are the server's
   * events; while polling, one update stands for the events since the previous one
   * (its `delta` is the text added since). When `attempt` changes, the text restarts from empty.
   */
  onUpdate?: (event: JobEvent) => void;
  onTransport?: (transport: Transport) => void;
  /** Stops following (the job itself goes on; use cancel() to stop it). */
  signal?: AbortSignal;
  /** Resume after an update already seen (e.g. after a page reload). */
  afterSeq?: number;
}

export interface GenerateOptions extends FollowOptions, Pick<GenerateBody, 'template' | 'model'> {
  /** Default: a fresh random key, so the POST can be retried safely. */
  idempotencyKey?: string;
  onAccepted?: (accepted: GenerateAccepted) => void;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

/** Any subset of GET /api/history's query; the server fills in page and limit. */
export type HistoryQuery = Partial<HistoryQueryParams>;

export interface DownloadedSpec {
  fileName: string;
  text: string;
}
