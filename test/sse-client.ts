import http from 'node:http';
import { Wakeup } from './wakeup.js';

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** A real HTTP client reading a text/event-stream, keeping every event and comment line it sees. */
export class SseReader {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  ended = false;
  statusCode = 0;
  headers: http.IncomingHttpHeaders = {};
  private buffer = '';
  private request: http.ClientRequest | undefined;
  private readonly arrivals = new Wakeup();

  static open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const reader = new SseReader();
    return new Promise((resolve, reject) => {
      reader.request = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        reader.statusCode = res.statusCode ?? 0;
        reader.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => reader.feed(chunk));
        res.on('end', () => reader.finish());
        res.on('close', () => reader.finish());
        resolve(reader);
      });
      reader.request.on('error', (err) => (reader.statusCode ? reader.finish() : reject(err)));
    });
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event: SseEvent = { data: '' };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        else if (line.startsWith('id:')) event.id = line.slice(3).trim();
        else if (line.startsWith('event:')) event.event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) this.events.push({ ...event, data: data.join('\n') });
    }
    this.arrivals.wake();
  }

  private finish(): void {
    this.ended = true;
    this.arrivals.wake();
  }

  jobEvents(): Array<{ seq: number; status: string; [key: string]: unknown }> {
    return this.events.filter((e) => e.event === 'job-update').map((e) => JSON.parse(e.data));
  }

  async until(check: (reader: SseReader) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this)) {
      if (this.ended) throw new Error(`stream ended first; got ${JSON.stringify(this.events).slice(0, 400)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(this.events).slice(0, 400)}`);
      await this.arrivals.wait(left);
    }
  }

  /** Waits for the server to end the stream. */
  async untilEnded(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('the stream did not end');
      await this.arrivals.wait(50);
    }
  }

  /** Drops the connection, as a network failure would. */
  drop(): void {
    this.request?.destroy();
  }
}
