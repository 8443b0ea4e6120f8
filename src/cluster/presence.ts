import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { closeRedis, createFailFastRedis } from '../redis/fail-fast-client.js';
import type { ClusterInstance } from '../schemas/health.js';
import { isoTime } from '../time.js';

const INDEX = 'idea2spec:instances';
const PREFIX = 'idea2spec:instance:';

/** How often an instance says it is alive; its record lapses after three missed heartbeats. */
export const HEARTBEAT_MS = 2000;
const TTL_MS = 3 * HEARTBEAT_MS;

/**
 * One heartbeat, one round trip: writes this instance's record with its TTL, then reads
 * every record in the index, dropping the ids whose record has lapsed (a crashed instance).
 * KEYS[1]: the index; ARGV: key prefix, id, record, TTL in ms.
 */
const BEAT = `
redis.call('SET', ARGV[1] .. ARGV[2], ARGV[3], 'PX', ARGV[4])
redis.call('SADD', KEYS[1], ARGV[2])
local records = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local record = redis.call('GET', ARGV[1] .. id)
  if record then table.insert(records, record) else redis.call('SREM', KEYS[1], id) end
end
return records`;

type Record = Omit<ClusterInstance, 'self'>;

export interface PresenceOptions {
  url: string;
  /** newInstanceId(): names this instance. */
  id: string;
  role: Config['ROLE'];
  /** The jobs this instance is running, read at every heartbeat. */
  runningJobIds(): string[];
  onRedisError?(err: Error): void;
}

/**
 * Which instances of the cluster are alive and what each is running: every instance
 * writes a record into Redis every HEARTBEAT_MS with a TTL of three heartbeats, and
 * deletes it when it closes. `instances()` answers from the list the last heartbeat read,
 * so it never waits on Redis; this instance's own entry is always current.
 */
export class Presence {
  private readonly redis: Redis;
  private readonly startedAt = isoTime(Date.now());
  private timer: NodeJS.Timeout | undefined;
  private others: Record[] = [];
  /** When the list of others was last read (this process's clock). */
  private readAt = 0;
  private closed = false;

  constructor(private readonly options: PresenceOptions) {
    this.redis = createFailFastRedis(options.url, 'idea2spec-presence');
    this.redis.on('error', (err: Error) => options.onRedisError?.(err));
  }

  /** Heartbeats from now on: at once when Redis is there, and again whenever the connection is (re)made. */
  start(): void {
    this.redis.on('ready', () => void this.beat());
    if (this.redis.status === 'ready') void this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS).unref();
  }

  private record(): Record {
    return {
      id: this.options.id,
      role: this.options.role,
      hostname: hostname(),
      pid: process.pid,
      startedAt: this.startedAt,
      lastSeen: isoTime(Date.now()),
      runningJobs: this.options.runningJobIds(),
    };
  }

  private async beat(): Promise<void> {
    if (this.closed) return;
    try {
      const records = (await this.redis.eval(
        BEAT,
        1,
        INDEX,
        PREFIX,
        this.options.id,
        JSON.stringify(this.record()),
        TTL_MS,
      )) as string[];
      this.others = records.map((r) => JSON.parse(r) as Record).filter((r) => r.id !== this.options.id);
      this.readAt = Date.now();
    } catch {
      // Redis unreachable: keep the last list (health reports Redis itself)
    }
  }

  /**
   * The instances alive at the last heartbeat, this one first. A list older than a record's
   * lifetime (Redis unreachable) says nothing about the others any more: then only this one.
   */
  instances(): ClusterInstance[] {
    const known = Date.now() - this.readAt <= TTL_MS ? this.others : [];
    const others = [...known].sort((a, b) => a.id.localeCompare(b.id)).map((r) => ({ ...r, self: false }));
    return [{ ...this.record(), self: true }, ...others];
  }

  /** Stops the heartbeat and takes this instance off the list at once, rather than when its record lapses. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    try {
      await this.redis.multi().del(`${PREFIX}${this.options.id}`).srem(INDEX, this.options.id).exec();
    } catch {
      // unreachable: the record lapses by itself
    }
    await closeRedis(this.redis);
  }
}
