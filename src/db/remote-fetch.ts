/**
 * How long one HTTP request to a libSQL server may take, its answer read in full. @libsql/client sets
 * none, and fetch waits 300 s for a server that accepted the connection but does not answer (frozen,
 * swapped out, a half-open link): a request of this service would wait as long, and every database
 * call behind the client's 20 concurrent ones with it. Far above any statement this service runs.
 */
export const REMOTE_REQUEST_TIMEOUT_MS = 10_000;

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
 */
export function boundedFetch(timeoutMs = REMOTE_REQUEST_TIMEOUT_MS) {
  return async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const res = await fetch(input, { ...init, signal });
      const body = await res.arrayBuffer();
      // An empty body as null: a Response with a body, even an empty one, cannot have status 204 or 304.
      return new Response(body.byteLength === 0 ? null : body, {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
    } catch (err) {
      if (signal.aborted)
        throw new DatabaseUnreachable(`the database server did not answer within ${timeoutMs} ms`, { cause: err });
      throw new DatabaseUnreachable(`the database server cannot be reached: ${rootMessage(err)}`, { cause: err });
    }
  };
}
