import type { WebSocket } from 'ws';
import type { EventLog, EventLogSnapshot } from '../jobs/stores/event-log.js';
import { isTerminal } from '../jobs/transitions.js';
import type { JobEvent } from '../schemas/jobs.js';
import type { SubscribedMessage, WsErrorMessage } from '../schemas/ws.js';
import { MessageLimiter } from './message-limiter.js';

/** Open sockets and job subscriptions: health, metrics and tests read these. */
export interface WsStats {
  connections: number;
  subscriptions: number;
}

/** A socket whose unsent data passes this is not keeping up; it is closed rather than buffered without end. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export interface HubOptions {
  events: EventLog;
  /** The state of a job the event log no longer holds (its durable row). */
  fallbackSnapshot(jobId: string): Promise<EventLogSnapshot | undefined>;
  maxSubscriptions: number;
  heartbeatMs: number;
  maxMessagesPerSecond: number;
}

/** One client socket, as the hub tracks it. */
export class Connection {
  alive = true;
  readonly subscriptions = new Map<string, () => void>();
  readonly limiter: MessageLimiter;

  constructor(
    readonly socket: WebSocket,
    maxMessagesPerSecond: number,
  ) {
    this.limiter = new MessageLimiter(maxMessagesPerSecond);
  }
}

export type FrameHandler = (conn: Connection, data: Buffer, isBinary: boolean) => void;

/**
 * The WebSocket hub: the connection set, the heartbeat, sending with
 * backpressure, the per-socket frame limit, and job subscriptions, which go
 * only through the event log (snapshot, replay, live events). The route above it
 * only translates the protocol.
 */
export class WebSocketHub {
  readonly stats: WsStats = { connections: 0, subscriptions: 0 };
  private readonly connections = new Set<Connection>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly options: HubOptions) {
    // One timer for all sockets: a socket that did not answer the previous ping is dropped.
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Tracks a new socket; frames within the rate limit go to `onFrame`. */
  connect(socket: WebSocket, onFrame: FrameHandler): Connection {
    const conn = new Connection(socket, this.options.maxMessagesPerSecond);
    this.connections.add(conn);
    this.stats.connections++;
    socket.on('pong', () => (conn.alive = true));
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      conn.alive = true;
      const verdict = conn.limiter.take();
      if (verdict === 'close') return socket.close(1008, 'Too many messages');
      if (verdict === 'warn') {
        const limit = this.options.maxMessagesPerSecond;
        this.sendError(conn, 'RATE_LIMITED', `At most ${limit} messages per second; extra messages are dropped`);
      }
      if (verdict === 'accept') onFrame(conn, data, isBinary);
    });
    socket.on('close', () => {
      for (const jobId of [...conn.subscriptions.keys()]) this.unsubscribe(conn, jobId);
      this.connections.delete(conn);
      this.stats.connections--;
    });
    return conn;
  }

  send(conn: Connection, message: unknown): void {
    const { socket } = conn;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      socket.close(1013, 'Client too slow');
      return;
    }
    socket.send(JSON.stringify(message));
  }

  sendError(conn: Connection, code: WsErrorMessage['code'], message: string, jobId?: string): void {
    this.send(conn, { type: 'error', code, message, ...(jobId ? { jobId } : {}) } satisfies WsErrorMessage);
  }

  /**
   * Sends the job's snapshot, the retained events after `afterSeq`, then its live
   * events until it ends. Events that arrive while the subscription is being set
   * up wait for the snapshot, so the order holds with any event log.
   */
  async subscribe(conn: Connection, jobId: string, afterSeq: number | undefined): Promise<void> {
    this.unsubscribe(conn, jobId);
    const { maxSubscriptions } = this.options;
    if (conn.subscriptions.size >= maxSubscriptions) {
      const message = `At most ${maxSubscriptions} subscriptions per connection`;
      return this.sendError(conn, 'TOO_MANY_SUBSCRIPTIONS', message, jobId);
    }
    // The slot is taken now, before the event log answers, so the cap holds for frames sent together.
    const held: { dropped: boolean; stop?: () => void } = { dropped: false };
    const slot = () => {
      held.dropped = true;
      held.stop?.();
    };
    conn.subscriptions.set(jobId, slot);
    this.stats.subscriptions++;
    const release = () => {
      if (conn.subscriptions.get(jobId) === slot) this.unsubscribe(conn, jobId);
    };

    let early: JobEvent[] | undefined = [];
    const deliver = (event: JobEvent) => {
      if (early) return void early.push(event);
      this.send(conn, event);
      // A finished job sends nothing more: its subscription no longer counts against the cap.
      if (isTerminal(event.status)) release();
    };
    const subscription = await this.options.events.subscribe(jobId, afterSeq, deliver);
    if (!subscription) {
      release();
      const snapshot = await this.options.fallbackSnapshot(jobId);
      if (!snapshot) return this.sendError(conn, 'JOB_NOT_FOUND', `Job ${jobId} not found`, jobId);
      return this.send(conn, subscribed(jobId, snapshot));
    }
    held.stop = () => subscription.close();
    const { snapshot, replay } = subscription;
    this.send(conn, subscribed(jobId, snapshot));
    for (const event of replay) this.send(conn, event);
    // Replaced by a later subscribe to the same job (or the socket closed) meanwhile: answered, not followed.
    if (held.dropped) return subscription.close();
    const pending = early.filter((event) => event.seq > snapshot.seq);
    early = undefined;
    if (isTerminal(snapshot.status)) return release();
    for (const event of pending) deliver(event);
  }

  unsubscribe(conn: Connection, jobId: string): boolean {
    const close = conn.subscriptions.get(jobId);
    if (!close) return false;
    close();
    conn.subscriptions.delete(jobId);
    this.stats.subscriptions--;
    return true;
  }

  close(): void {
    clearInterval(this.heartbeat);
  }

  private beat(): void {
    for (const conn of this.connections) {
      if (!conn.alive) {
        conn.socket.terminate();
        continue;
      }
      conn.alive = false;
      conn.socket.ping();
    }
  }
}

function subscribed(jobId: string, snapshot: EventLogSnapshot): SubscribedMessage {
  return { type: 'subscribed', jobId, status: snapshot.status, seq: snapshot.seq, text: snapshot.text };
}
