import autocannon from 'autocannon';
import { percentiles, type Percentiles } from './percentiles.js';

export interface HttpLoadResult {
  url: string;
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  latencyMs: Percentiles | undefined;
  statusCodes: Record<string, number>;
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number;
}

/** `requests` GETs over `concurrency` connections with autocannon; latency percentiles from every response, not autocannon's buckets. */
export async function httpLoad(
  url: string,
  concurrency: number,
  requests: number,
  headers: Record<string, string>,
): Promise<HttpLoadResult> {
  const latencies: number[] = [];
  const started = performance.now();
  // autocannon only stops on its next one-second tick; throughput counts up to the last answer instead.
  let lastAnswer = started;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url, connections: concurrency, amount: requests, timeout: 10, headers },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
      lastAnswer = performance.now();
    });
  });
  const durationSeconds = Math.max(0.001, (lastAnswer - started) / 1000);
  const statusCodes = Object.fromEntries(
    Object.entries((result as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {}).map(
      ([code, { count }]) => [code, count],
    ),
  );
  return {
    url,
    requests: latencies.length,
    durationSeconds: Math.round(durationSeconds * 1000) / 1000,
    requestsPerSecond: Math.round((latencies.length / durationSeconds) * 10) / 10,
    latencyMs: percentiles(latencies),
    statusCodes,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}
