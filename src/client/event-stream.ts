import type { JobEvent } from '../schemas/jobs.js';
import type { Http } from './http.js';

/**
 * Reads a job's Server-Sent Events (GET /api/job/:jobId/events) with fetch, which, unlike
 * EventSource, can send the API key. Resolves when the server ends the stream (after the
 * terminal event, or on shutdown); rejects when it cannot be opened or breaks off.
 */
export async function readJobEvents(
  http: Http,
  jobId: string,
  afterSeq: number,
  signal: AbortSignal,
  onEvent: (event: JobEvent) => void,
): Promise<void> {
  const response = await http.open(
    `/api/job/${encodeURIComponent(jobId)}/events`,
    { accept: 'text/event-stream', 'last-event-id': String(afterSeq) },
    signal,
  );
  if (!response.body) throw new Error('This runtime cannot read a streamed response');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = parseBlock(block);
      if (event) onEvent(event);
    }
  }
}

/** One event: `event: job-update` and its `data:` lines; comments (heartbeats) and other events are skipped. */
function parseBlock(block: string): JobEvent | undefined {
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) type = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  return type === 'job-update' && data.length > 0 ? (JSON.parse(data.join('\n')) as JobEvent) : undefined;
}
