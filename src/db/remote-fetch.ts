/**
 * How long one HTTP request to a libSQL server may take, its answer read in full. @libsql/client sets
 * none, and fetch waits 300 s for a server that accepted the connection but does not answer (frozen,
 * swapped out, a half-open link): a request of this service would wait as long, and every database
 * call behind the client's 20 concurrent ones with it. Far above any statement this service runs.
 */
export const REMOTE_REQUEST_TIMEOUT_MS = 10_000;

/**
 * The bound while migrations run (patiently()): one request carries a whole migration, and one that
 * rebuilds a table of 100,000 ideas on the server can take longer than any request of a running service.
 */
export const PATIENT_REQUEST_TIMEOUT_MS = 600_000;

export interface BoundedFetch {
  (input: Request | string | URL, init?: RequestInit): Promise<Response>;
  /** Runs work with requests bounded by PATIENT_REQUEST_TIMEOUT_MS instead. */
  patiently<T>(work: () => Promise<T>): Promise<T>;
}

/** The libSQL server cannot be reached or did not answer in time: the database is unavailable, the statement is not at fault. */
export class DatabaseUnreachable extends Error {
  readonly code = 'DATABASE_UNREACHABLE';
}

/** The innermost cause: fetch hides the real reason (ECONNREFUSED, a reset socket) there. */
function rootMessage(err: unknown): string {
  let root = err;
  while (root instanceof Error && root.cause instanceof Error) root = root.cause;
  return root instanceof Error ? root.message : String(root);
}

/**
 * The `fetch` the remote client is given: each request, its response body included, ends within
 * timeoutMs, and a request that fails on the way (refused, reset, timed out) fails as DatabaseUnreachable.
 * The body is read here, so a server that stops halfway through an answer is caught by the same bound.
 *
 * Once a request has gone unanswered, the server is taken as silent until one is answered again:
 * meanwhile one request at a time goes to it (the probe) and the others fail at once. Otherwise
 * each of the client's 20 concurrent requests waits out the bound, and the calls queued behind them
 * wait 10 s more for every 20 ahead (60 history requests on a frozen server: 30 s for the last).
 */
export function boundedFetch(boundMs = REMOTE_REQUEST_TIMEOUT_MS): BoundedFetch {
  let silent = false;
  let probing = false;
  let patience = 0;
  const remoteFetch = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
    const timeoutMs = patience > 0 ? PATIENT_REQUEST_TIMEOUT_MS : boundMs;
    if (silent && probing)
      throw new DatabaseUnreachable(`the database server did not answer within ${timeoutMs} ms and has not since`);
    const probe = silent;
    if (probe) probing = true;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const res = await fetch(input, { ...init, signal });
      const body = await res.arrayBuffer();
      silent = false;
      // An empty body as null: a Response with a body, even an empty one, cannot have status 204 or 304.
      return new Response(body.byteLength === 0 ? null : body, {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
    } catch (err) {
      if (signal.aborted) {
        silent = true;
        throw new DatabaseUnreachable(`the database server did not answer within ${timeoutMs} ms`, { cause: err });
      }
      throw new DatabaseUnreachable(`the database server cannot be reached: ${rootMessage(err)}`, { cause: err });
    } finally {
      if (probe) probing = false;
    }
  };
  return Object.assign(remoteFetch, {
    async patiently<T>(work: () => Promise<T>): Promise<T> {
      patience++;
      try {
        return await work();
      } finally {
        patience--;
      }
    },
  });
}
