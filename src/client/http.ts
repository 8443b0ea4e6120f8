import type { ErrorResponse } from '../schemas/common.js';
import { ApiError, ConnectionError } from './errors.js';
import { jitteredBackoff, type Timers } from './timers.js';

export interface HttpOptions {
  baseUrl: string;
  apiKey?: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Retries of a safe request (GET, or a POST carrying an Idempotency-Key). */
  retries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  fetch: typeof fetch;
  timers: Timers;
}

export interface CallOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  idempotencyKey?: string;
  /** Statuses answered with a body the caller reads rather than an ApiError (e.g. 503 from /api/health). */
  accept?: number[];
}

export interface HttpResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** Statuses worth another try: the request was not processed, or may be later. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/**
 * fetch with the service's conventions: bearer key, JSON in and out, errors as
 * ApiError/ConnectionError, and retries only where repeating cannot do harm.
 */
export class Http {
  constructor(private readonly options: HttpOptions) {}

  async request<T>(method: string, path: string, init: CallOptions = {}): Promise<HttpResponse<T>> {
    const { retries, retryBaseMs, retryMaxMs, timers } = this.options;
    const safe = method === 'GET' || init.idempotencyKey !== undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(method, path, init);
      } catch (err) {
        const retryable =
          err instanceof ConnectionError || (err instanceof ApiError && RETRYABLE_STATUS.has(err.status));
        if (!safe || !retryable || attempt > retries || init.signal?.aborted) throw err;
        const suggested = err instanceof ApiError ? err.retryAfterMs : undefined;
        await timers.wait(
          Math.min(retryMaxMs, suggested ?? jitteredBackoff(attempt, retryBaseMs, retryMaxMs)),
          init.signal,
        );
      }
    }
  }

  /** A GET whose body the caller streams: the key is sent, non-2xx answers become ApiError, and only the wait for the headers is timed. */
  async open(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const headersArrived = new AbortController();
    const onTimeout = () => headersArrived.abort(timeout.reason);
    timeout.addEventListener('abort', onTimeout, { once: true });
    let response: Response;
    try {
      response = await this.options.fetch(this.url(path), {
        headers: { ...headers, ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}) },
        signal: AbortSignal.any([signal, headersArrived.signal]),
      });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new ConnectionError(`GET ${path}: cannot reach ${this.options.baseUrl} (${describe(err)})`, { cause: err });
    } finally {
      timeout.removeEventListener('abort', onTimeout);
    }
    if (response.ok) return response;
    const text = await response.text();
    const body = parseJson(text);
    throw new ApiError(
      response.status,
      typeof body === 'object' && body !== null ? body : { message: `GET ${path} answered ${response.status}` },
      retryAfterMs(response.headers.get('retry-after')),
    );
  }

  url(path: string, query: CallOptions['query'] = {}): string {
    const url = new URL(path, this.options.baseUrl);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  private async once<T>(method: string, path: string, init: CallOptions): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json, text/markdown;q=0.9, */*;q=0.1' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    if (init.idempotencyKey) headers['idempotency-key'] = init.idempotencyKey;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;

    let response: Response;
    let text: string;
    try {
      response = await this.options.fetch(this.url(path, init.query), {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal,
      });
      text = await response.text();
    } catch (err) {
      if (init.signal?.aborted) throw init.signal.reason;
      if (timeout.aborted)
        throw new ConnectionError(`${method} ${path}: no answer within ${this.options.timeoutMs} ms`, {
          cause: err,
          code: 'REQUEST_TIMEOUT',
        });
      throw new ConnectionError(`${method} ${path}: cannot reach ${this.options.baseUrl} (${describe(err)})`, {
        cause: err,
      });
    }

    const json = (response.headers.get('content-type') ?? '').includes('json');
    const body = json && text ? parseJson(text) : text;
    if (response.ok || init.accept?.includes(response.status))
      return { status: response.status, headers: response.headers, body: body as T };
    const error: Partial<ErrorResponse> =
      typeof body === 'object' && body !== null
        ? body
        : { message: `${method} ${path} answered ${response.status}: ${text.slice(0, 200)}` };
    throw new ApiError(response.status, error, retryAfterMs(response.headers.get('retry-after')));
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** fetch hides the real reason (ECONNREFUSED…) in `cause`; it is what an operator needs to see. */
function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
