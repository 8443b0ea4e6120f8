import type { WebSocket } from 'ws';
import type { EventLog, EventLogSnapshot } from '../jobs/stores/event-log.js';
import { isTerminal } from '../jobs/transitions.js';
import type { JobEvent } from '../schemas/jobs.js';
import type { SubscribedMessage, WsErrorMessage } from '../schemas/ws.js';
import { MessageLimiter } from './message-limiter.js';
import { SendBudget } from './send-budget.js';

/** Open sockets and job subscriptions: health, metrics and tests read these. */
export interface WsStats {
  connections: number;
  subscriptions: number;
}

/** A socket whose unsent data passes this is not keeping up; it is closed rather than buffered without end. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** A socket with this much still unsent gets no new snapshot until it has caught up (backpressure). */
const SNAPSHOT_BACKLOG_BYTES = 1024 * 1024;
/** How often a subscription answered from the row tries the event log again. */
const RESUBSCRIBE_MS = 1000;

export interface HubOptions {
  /** Subscribes to a job's events: the event log's subscribe, or one that checks it against the row. */
  events: Pick<EventLog, 'subscribe'>;
  /** The state of a job the event log no longer holds (its durable row). */
  fallbackSnapshot(jobId: string): Promise<EventLogSnapshot | undefined>;
  /** The job's last event, from the event log or rebuilt from its row. */
  lastEvent(jobId: string): Promise<JobEvent | undefined>;
  maxSubscriptions: number;
  heartbeatMs: number;
  maxMessagesPerSecond: number;
  /** Bytes of subscribe replies (snapshots, replays) one socket may pull a minute. */
  snapshotBytesPerMinute: number;
}

/** One client socket, as the hub tracks it. */
export class Connection {
  alive = true;
  readonly subscriptions = new Map<string, () => void>();
  readonly limiter: MessageLimiter;
  readonly budget: SendBudget;

  constructor(
    readonly socket: WebSocket,
    maxMessagesPerSecond: number,
    snapshotBytesPerMinute: number,
  ) {
    this.limiter = new MessageLimiter(maxMessagesPerSecond);
    this.budget = new SendBudget(snapshotBytesPerMinute);
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
    const conn = new Connection(socket, this.options.maxMessagesPerSecond, this.options.snapshotBytesPerMinute);
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
    this.sendFrame(conn, JSON.stringify(message));
  }

  sendError(
    conn: Connection,
    code: WsErrorMessage['code'],
    message: string,
    jobId?: string,
    retryAfterMs?: number,
  ): void {
    const error = { type: 'error', code, message, ...(jobId ? { jobId } : {}) } satisfies WsErrorMessage;
    this.send(conn, retryAfterMs === undefined ? error : { ...error, retryAfterMs });
  }

  private sendFrame(conn: Connection, frame: string): void {
    const { socket } = conn;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      socket.close(1013, 'Client too slow');
      return;
    }
    socket.send(frame);
  }

  /**
   * A subscribe's reply (the snapshot, then the replay) goes out whole, and only
   * when the socket has caught up with what it was sent and its budget covers it;
   * otherwise RATE_LIMITED says when to ask again (the SDK polls meanwhile).
   */
  private sendReply(conn: Connection, jobId: string, messages: unknown[]): boolean {
    const frames = messages.map((m) => JSON.stringify(m));
    const backlog = conn.socket.bufferedAmount > SNAPSHOT_BACKLOG_BYTES;
    const bytes = frames.reduce((n, f) => n + Buffer.byteLength(f), 0);
    const verdict = backlog ? { ok: false as const, retryAfterMs: 1000 } : conn.budget.take(bytes);
    if (!verdict.ok) {
      const why = backlog
        ? 'this socket has not yet read what it was sent'
        : `this socket has used its ${this.options.snapshotBytesPerMinute} bytes a minute of subscribe replies`;
      const again = Math.ceil(verdict.retryAfterMs / 1000);
      const message = `Subscribe refused: ${why}; subscribe again in ${again} s`;
      this.sendError(conn, 'RATE_LIMITED', message, jobId, verdict.retryAfterMs);
      return false;
    }
    for (const frame of frames) this.sendFrame(conn, frame);
    return true;
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
    // A shared log that cannot be reached (Redis away) answers like one that does not hold the job: from the row.
    const subscription = await this.options.events.subscribe(jobId, afterSeq, deliver).catch(() => undefined);
    if (!subscription) {
      const snapshot = await this.options.fallbackSnapshot(jobId);
      if (!snapshot) {
        release();
        return this.sendError(conn, 'JOB_NOT_FOUND', `Job ${jobId} not found`, jobId);
      }
      if (!this.sendReply(conn, jobId, [subscribed(jobId, snapshot)]) || isTerminal(snapshot.status) || held.dropped)
        return release();
      // Still running (on an instance whose events the log will hold once Redis answers): followed from there.
      return this.resume(conn, jobId, snapshot.seq, held, release);
    }
    held.stop = () => subscription.close();
    const { snapshot, replay } = subscription;
    if (!this.sendReply(conn, jobId, [subscribed(jobId, snapshot), ...replay])) {
      subscription.close();
      return release();
    }
    // Replaced by a later subscribe to the same job (or the socket closed) meanwhile: answered, not followed.
    if (held.dropped) return subscription.close();
    const pending = early.filter((event) => event.seq > snapshot.seq);
    early = undefined;
    if (isTerminal(snapshot.status)) return release();
    for (const event of pending) deliver(event);
  }

  /**
   * A subscription answered from the row while the event log could not be reached: the log is
   * tried again every RESUBSCRIBE_MS, and once it answers the client gets the events after the
   * seq it was given, then live ones, until the job ends or the client lets go.
   */
  private resume(
    conn: Connection,
    jobId: string,
    sentSeq: number,
    held: { dropped: boolean; stop?: () => void },
    release: () => void,
  ): void {
    let last = sentSeq;
    let timer: NodeJS.Timeout | undefined;
    let early: JobEvent[] | undefined = [];
    const deliver = (event: JobEvent) => {
      if (early) return void early.push(event);
      if (event.seq <= last) return;
      last = event.seq;
      this.send(conn, event);
      if (isTerminal(event.status)) release();
    };
    const retry = () => {
      timer = setTimeout(() => void attempt(), RESUBSCRIBE_MS);
      timer.unref();
    };
    held.stop = () => clearTimeout(timer);
    const attempt = async () => {
      early = [];
      const subscription = await this.options.events.subscribe(jobId, last, deliver).catch(() => null);
      if (held.dropped) return subscription?.close();
      // Still unreachable: tried again later, without a database read each time.
      if (subscription === null) return retry();
      if (!subscription) {
        // The log does not hold it (yet): the row tells whether it ended meanwhile.
        const row = await this.options.fallbackSnapshot(jobId).catch(() => undefined);
        if (held.dropped) return;
        if (row && isTerminal(row.status)) {
          const ended = await this.options.lastEvent(jobId).catch(() => undefined);
          early = undefined;
          if (ended && !held.dropped) deliver(ended);
          return release();
        }
        return retry();
      }
      held.stop = () => subscription.close();
      const pending = [...subscription.replay, ...early.filter((event) => event.seq > subscription.snapshot.seq)];
      early = undefined;
      for (const event of pending) deliver(event);
      if (isTerminal(subscription.snapshot.status) && !held.dropped) {
        // Ended before the log answered, its end trimmed from the replay: the last event stands for it.
        const ended = await this.options.lastEvent(jobId).catch(() => undefined);
        if (ended && !held.dropped) deliver(ended);
        release();
      }
    };
    retry();
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
