import type { JobEvent } from '../schemas/jobs.js';
import type { ClientMessage, SubscribedMessage, WsErrorMessage } from '../schemas/ws.js';
import { jitteredBackoff, type Timers } from './timers.js';
import { OPEN, type WebSocketFactory, type WebSocketLike } from './websocket.js';

/** The frames of one job that the channel routes to its watcher. */
export type JobFrame = JobEvent | SubscribedMessage | (WsErrorMessage & { jobId: string });

/** One followed job, as the channel sees it. `up` and `down` may repeat: a watcher treats them as states, not edges. */
export interface ChannelWatcher {
  /** The socket is open: (re)subscribe. */
  up(): void;
  /** The socket is gone or cannot be had: follow some other way until `up`. */
  down(): void;
  frame(frame: JobFrame): void;
}

export interface ChannelOptions {
  url: string;
  factory: WebSocketFactory;
  timers: Timers;
  connectTimeoutMs: number;
  heartbeatMs: number;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
}

type State = 'idle' | 'connecting' | 'open' | 'waiting';

/**
 * The client's one WebSocket, shared by every job it follows. It connects when
 * the first job is watched, tells watchers when it goes up or down, reconnects
 * with backoff and jitter while anyone is watching, and closes when no one is.
 */
export class JobChannel {
  private state: State = 'idle';
  private socket: WebSocketLike | undefined;
  private failures = 0;
  /** Bumped per connection attempt, so a late answer from an abandoned attempt changes nothing. */
  private generation = 0;
  private heard = true;
  private closed = false;
  private cancelTimer: (() => void) | undefined;
  private readonly watchers = new Map<string, ChannelWatcher>();

  constructor(private readonly options: ChannelOptions) {}

  get isOpen(): boolean {
    return this.state === 'open';
  }

  watch(jobId: string, watcher: ChannelWatcher): () => void {
    this.watchers.set(jobId, watcher);
    if (this.state === 'open') watcher.up();
    else if (this.state === 'waiting') watcher.down();
    else if (this.state === 'idle' && !this.closed) this.connect();
    else if (this.closed) watcher.down();
    return () => {
      if (this.watchers.get(jobId) !== watcher) return;
      this.watchers.delete(jobId);
      if (this.state === 'open') this.send({ type: 'unsubscribe-job', jobId });
      if (this.watchers.size === 0) this.reset();
    };
  }

  send(message: ClientMessage): void {
    if (this.state === 'open' && this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(message));
  }

  close(): void {
    this.closed = true;
    this.watchers.clear();
    this.reset();
  }

  private connect(): void {
    const generation = ++this.generation;
    this.state = 'connecting';
    this.schedule(this.options.connectTimeoutMs, () => this.lost());
    this.options.factory(this.options.url).then(
      (socket) => {
        if (generation === this.generation) return this.attach(socket);
        // An attempt given up meanwhile: its socket is closed, and the error `ws` emits for a socket
        // closed while still connecting is ignored instead of thrown as an uncaught exception.
        socket.addEventListener('error', () => {});
        socket.close();
      },
      () => generation === this.generation && this.lost(),
    );
  }

  private attach(socket: WebSocketLike): void {
    this.socket = socket;
    const current = () => this.socket === socket;
    socket.addEventListener('open', () => {
      if (!current()) return;
      this.state = 'open';
      this.failures = 0;
      this.heartbeat();
      for (const watcher of this.watchers.values()) watcher.up();
    });
    socket.addEventListener('message', (event) => {
      if (!current()) return;
      this.heard = true;
      const frame = parseFrame(event.data);
      if (frame) this.watchers.get(frame.jobId)?.frame(frame);
    });
    socket.addEventListener('close', () => current() && this.lost());
    // 'close' always follows 'error'; the listener only keeps `ws` from throwing.
    socket.addEventListener('error', () => {});
  }

  /** The server answers pings at the protocol level, which browsers do not expose: silence over a whole period means a dead link. */
  private heartbeat(): void {
    this.heard = true;
    const beat = () => {
      if (!this.heard) return this.lost();
      this.heard = false;
      this.send({ type: 'ping' });
      this.schedule(this.options.heartbeatMs, beat);
    };
    this.schedule(this.options.heartbeatMs, beat);
  }

  /** The socket failed, closed or went silent: watchers fall back, and a reconnect is planned while anyone watches. */
  private lost(): void {
    this.drop();
    if (this.closed || this.watchers.size === 0) {
      this.state = 'idle';
      return;
    }
    this.state = 'waiting';
    for (const watcher of this.watchers.values()) watcher.down();
    const delay = jitteredBackoff(++this.failures, this.options.reconnectBaseMs, this.options.reconnectMaxMs);
    this.schedule(delay, () => this.connect());
  }

  private reset(): void {
    this.drop();
    this.state = 'idle';
  }

  private drop(): void {
    this.generation++;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket && socket.readyState <= OPEN) socket.close(1000, 'Client done');
  }

  private schedule(ms: number, fn: () => void): void {
    this.cancelTimer?.();
    this.cancelTimer = this.options.timers.after(ms, fn);
  }
}

function parseFrame(data: unknown): JobFrame | undefined {
  try {
    const frame = JSON.parse(String(data)) as { type?: unknown; jobId?: unknown };
    return typeof frame.jobId === 'string' && ['job-update', 'subscribed', 'error'].includes(frame.type as string)
      ? (frame as JobFrame)
      : undefined;
  } catch {
    return undefined;
  }
}
