import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const Int = (def: number, min: number, max = Number.MAX_SAFE_INTEGER, description?: string) =>
  Type.Integer({ default: def, minimum: min, maximum: max, description });

/**
 * The environment, as a schema. The Config type, the defaults, `.env.example`
 * and the start-up validation all derive from this one object.
 */
export const ConfigSchema = Type.Object({
  PORT: Int(3001, 0, 65535, 'HTTP port'),
  HOST: Type.String({
    default: '127.0.0.1',
    minLength: 1,
    description:
      'Interface to listen on: loopback by default; 0.0.0.0 (all interfaces) in a container or behind a proxy on another host',
  }),
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
  }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  TURSO_DATABASE_URL: Type.String({
    default: 'file:./data/idea2spec.db',
    pattern: '^(file:|libsql:|https?:|wss?:|:memory:)',
    description: 'libSQL URL: file:… (embedded), libsql://… (Turso / sqld)',
  }),
  TURSO_AUTH_TOKEN: Type.Optional(Type.String({ description: 'Auth token for a remote libSQL database' })),
  PUBLIC_URL: Type.Optional(
    Type.String({
      pattern: '^https?://[^/?#\\s]+(/[^?#\\s]*)?$',
      description:
        'The URL clients reach the service at (behind a proxy), e.g. https://idea2spec.example.com; names the server in the OpenAPI and AsyncAPI documents. Default: the origin each request came to',
    }),
  ),
  TRUST_PROXY: Type.Optional(
    Type.String({
      pattern: '^(true|false|[0-9A-Fa-f:.,/ ]+)$',
      description:
        "Behind a load balancer or proxy: whose X-Forwarded-For/-Proto/-Host to believe, so rate limits count each client, not the balancer. A comma-separated list of the proxies' addresses or CIDRs (e.g. 10.0.0.5,10.1.0.0/16), or true (any sender: only when nothing but the proxy can reach the service). Default: none",
    }),
  ),
  ALLOWED_ORIGINS: Type.String({
    default: 'http://localhost:3000,http://localhost:3001,http://localhost:5173,http://127.0.0.1:3001',
    description: 'Comma-separated exact origins for CORS and the WebSocket Origin check',
  }),
  REDIS_URL: Type.Optional(
    Type.String({
      pattern: '^rediss?://',
      description:
        'Cluster mode: Redis 7+ shared by every instance (the BullMQ job queue, job events, cancels, rate limits, the circuit breaker). Unset: one process, no Redis',
    }),
  ),
  ROLE: Type.Union([Type.Literal('all'), Type.Literal('api'), Type.Literal('worker')], {
    default: 'all',
    description:
      'Cluster mode: api serves HTTP and WebSocket and queues jobs but runs none, worker runs jobs (and answers probes), all does both. Needs REDIS_URL unless all',
  }),
  API_KEY: Type.Optional(
    Type.String({
      minLength: 16,
      description: 'When set, required on mutating routes, job and spec reads, and the WebSocket',
    }),
  ),
  METRICS_REQUIRE_API_KEY: Type.Boolean({
    default: false,
    description: 'With API_KEY set, also require it on /metrics and /api/metrics/*',
  }),
  GENERATOR: Type.Union(
    [Type.Literal('auto'), Type.Literal('gemini'), Type.Literal('command'), Type.Literal('offline')],
    { default: 'auto' },
  ),
  GENERATOR_COMMAND: Type.Optional(
    Type.String({ description: 'JSON argv of a CLI that reads a prompt on stdin, e.g. ["ollama","run","llama3.2"]' }),
  ),
  GEMINI_CLI_PATH: Type.Optional(
    Type.String({ minLength: 1, description: 'Gemini CLI executable (default: the pinned @google/gemini-cli)' }),
  ),
  GEMINI_MODEL: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' })),
  GEMINI_CLI_HOME: Type.Optional(
    Type.String({
      minLength: 1,
      description: "HOME the Gemini CLI runs with (its settings and login); default: the service user's HOME",
    }),
  ),
  GEMINI_API_KEY: Type.Optional(
    Type.String({ description: 'Passed to the CLI; its presence makes GENERATOR=auto choose gemini' }),
  ),
  GEMINI_TIMEOUT_MS: Int(300_000, 100, 3_600_000, 'Wall-clock limit of one attempt (every generator, not only Gemini)'),
  GEMINI_INACTIVITY_TIMEOUT_MS: Int(
    90_000,
    100,
    3_600_000,
    'Limit on silence from the generator within one attempt (every generator)',
  ),
  GEMINI_MAX_ATTEMPTS: Int(3, 1, 10, 'Attempts per job, retries included (every generator)'),
  GEMINI_RETRY_BASE_MS: Int(1000, 0, 60_000, 'Backoff base: delay before try n is random in [0, base * 2^(n-2)]'),
  GEMINI_RETRY_MAX_MS: Int(30_000, 0, 600_000, 'Longest backoff delay between attempts (every generator)'),
  GEMINI_KILL_GRACE_MS: Int(
    2000,
    0,
    60_000,
    'Delay between SIGTERM and SIGKILL (every generator process); also how long the Gemini CLI may take to exit after its result event',
  ),
  CIRCUIT_FAILURE_THRESHOLD: Int(5, 1, 1000, 'Consecutive retryable generator failures that open the circuit breaker'),
  CIRCUIT_COOLDOWN_MS: Int(
    30_000,
    100,
    3_600_000,
    'How long an open circuit fails attempts fast before letting one probe through',
  ),
  GENERATOR_OUTPUT_LIMIT: Int(1_000_000, 1000, 50_000_000, 'Cap on one spec, in characters'),
  JOB_CONCURRENCY: Int(2, 1, 64),
  JOB_QUEUE_LIMIT: Int(100, 0, 100_000, 'Jobs waiting for a slot before POST /api/generate answers 503'),
  JOB_LOCK_DURATION_MS: Int(
    10_000,
    1000,
    600_000,
    "Cluster mode: a running job's lock in Redis, renewed every half of it; a crashed instance's job can be taken over once its lock lapses. Shorter: faster recovery, but an event loop stalled longer than half of it loses the job to another instance",
  ),
  JOB_STALLED_INTERVAL_MS: Int(
    5000,
    500,
    600_000,
    'Cluster mode: how often instances look for jobs whose lock lapsed; recovery after a crash takes up to JOB_LOCK_DURATION_MS + this. At most JOB_LOCK_DURATION_MS',
  ),
  JOB_ENQUEUE_TIMEOUT_MS: Int(
    2000,
    100,
    60_000,
    'Cluster mode: how long POST /api/generate waits for Redis to take a new job before answering 503 with Retry-After',
  ),
  JOB_RETENTION_MS: Int(600_000, 0, 86_400_000, "How long a finished job's event log stays in memory for replay"),
  SHUTDOWN_GRACE_MS: Int(
    10_000,
    0,
    600_000,
    'How long running jobs may finish on shutdown before they are cancelled and re-queued',
  ),
  RATE_LIMIT_MAX: Int(600, 1),
  RATE_LIMIT_WINDOW_MS: Int(60_000, 100),
  GENERATE_RATE_LIMIT_MAX: Int(20, 1),
  GENERATE_RATE_LIMIT_WINDOW_MS: Int(60_000, 100),
  WS_MAX_PAYLOAD: Int(65_536, 256, 16_777_216, 'Largest client frame in bytes; larger ones close the socket with 1009'),
  WS_MAX_SUBSCRIPTIONS: Int(50, 1, 10_000),
  WS_MAX_CONNECTIONS: Int(1000, 1, 1_000_000, 'Open WebSockets; further upgrades are refused with 503'),
  WS_MAX_CONNECTIONS_PER_CLIENT: Int(
    50,
    1,
    1_000_000,
    "Open WebSockets from one client address (the proxy's X-Forwarded-For under TRUST_PROXY); further upgrades from it are refused with 429",
  ),
  WS_MAX_MESSAGES_PER_SECOND: Int(
    100,
    1,
    100_000,
    'Client frames per socket per second; excess frames are dropped with an error, sustained excess closes with 1008',
  ),
  WS_SNAPSHOT_BYTES_PER_MINUTE: Int(
    16 * 1024 * 1024,
    64 * 1024,
    1024 * 1024 * 1024,
    'Bytes of subscribe replies (snapshot text and replayed events) one socket may get per minute; over it a subscribe answers RATE_LIMITED with retryAfterMs',
  ),
  WS_HEARTBEAT_MS: Int(30_000, 50, 600_000),
  SSE_HEARTBEAT_MS: Int(
    15_000,
    50,
    600_000,
    'How often an idle event stream (GET /api/v1/job/:jobId/events) gets a comment line, so proxies keep it open',
  ),
  WEBHOOK_SECRET: Type.Optional(
    Type.String({
      pattern: '^(whsec_)?[A-Za-z0-9+/]{32,}={0,2}$',
      description:
        'Standard Webhooks signing secret (base64, optionally whsec_-prefixed, at least 24 bytes); webhookUrl is accepted only when it is set',
    }),
  ),
  WEBHOOK_ALLOW_HTTP: Type.Boolean({
    default: false,
    description: 'Also deliver webhooks to http:// URLs (default: https only)',
  }),
  WEBHOOK_ALLOWED_HOSTS: Type.String({
    default: '',
    description:
      'Comma-separated webhook hosts (names or IPs) exempt from the refusal of loopback, private, link-local and metadata addresses',
  }),
  WEBHOOK_TIMEOUT_MS: Int(10_000, 100, 120_000, 'Limit on one webhook delivery attempt, connection to response'),
  WEBHOOK_MAX_ATTEMPTS: Int(8, 1, 50, 'Delivery attempts before a webhook is marked failed'),
  WEBHOOK_RETRY_BASE_MS: Int(
    5000,
    0,
    3_600_000,
    'Backoff base between webhook attempts: the delay before try n is random in [0, base * 2^(n-2)]',
  ),
  WEBHOOK_RETRY_MAX_MS: Int(3_600_000, 0, 86_400_000),
  WEBHOOK_POLL_MS: Int(
    1000,
    20,
    600_000,
    'How often stored webhook deliveries that are due are looked for (they also start at once when a job ends)',
  ),
  METRICS_RETENTION_DAYS: Int(14, 1, 3650),
  HEALTH_LOG_RETENTION_DAYS: Int(14, 1, 3650),
  METRICS_ENABLED: Type.Boolean({
    default: true,
    description: "Capture every response's duration (performance_metrics and the Prometheus request histogram)",
  }),
  METRICS_FLUSH_MS: Int(5000, 50, 600_000, 'How often buffered response times are written to performance_metrics'),
  HEALTH_SAMPLE_MS: Int(
    15_000,
    50,
    3_600_000,
    'How often the health sampler refreshes its checks and writes health_logs',
  ),
  GEMINI_HEALTH_CHECK_MS: Int(
    300_000,
    0,
    86_400_000,
    'How often the active Gemini CLI is checked with --version in the background; 0: only on /api/gemini/health?refresh=true',
  ),
  DB_MAINTENANCE_INTERVAL_MS: Int(
    3_600_000,
    50,
    86_400_000,
    'How often old metrics and health logs are deleted, planner statistics refreshed (PRAGMA optimize) and the WAL checkpointed',
  ),
  SEARCH_RANK_WINDOW: Int(
    1000,
    100,
    100_000,
    'History search ranks this many of the newest matches by relevance; a larger window ranks older matches too but costs more for common words',
  ),
});

export type Config = Static<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const KEYS = Object.keys(ConfigSchema.properties) as Array<keyof Config>;

/** Reads, coerces and validates the environment; throws ConfigError naming every bad variable. */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<Config> = {},
): Config {
  const raw: Record<string, unknown> = {};
  for (const key of KEYS) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  Object.assign(raw, overrides);
  const withDefaults = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, raw));
  const problems = [...Value.Errors(ConfigSchema, withDefaults)].map((e) => {
    const name = e.path.replace(/^\//, '') || '(root)';
    return `${name}: ${e.message} (got ${JSON.stringify(raw[name] ?? null)})`;
  });
  const config = withDefaults as Config;
  if (problems.length === 0) problems.push(...crossFieldProblems(config));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function crossFieldProblems(config: Config): string[] {
  const problems: string[] = [];
  if (config.GENERATOR_COMMAND !== undefined && parseCommand(config.GENERATOR_COMMAND) === undefined) {
    problems.push('GENERATOR_COMMAND: must be a JSON array of non-empty strings, e.g. ["ollama","run","llama3.2"]');
  }
  if (config.GENERATOR === 'command' && config.GENERATOR_COMMAND === undefined) {
    problems.push('GENERATOR_COMMAND: required when GENERATOR=command');
  }
  if (config.ROLE !== 'all' && config.REDIS_URL === undefined) {
    problems.push(`ROLE: ${config.ROLE} needs REDIS_URL (cluster mode); one process without Redis runs ROLE=all`);
  }
  if (config.JOB_STALLED_INTERVAL_MS > config.JOB_LOCK_DURATION_MS) {
    problems.push(
      `JOB_STALLED_INTERVAL_MS: ${config.JOB_STALLED_INTERVAL_MS} is longer than JOB_LOCK_DURATION_MS (${config.JOB_LOCK_DURATION_MS}); a lapsed lock would wait longer to be noticed than it lasted`,
    );
  }
  for (const origin of allowedOrigins(config)) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin))
      problems.push(`ALLOWED_ORIGINS: "${origin}" is not an origin like https://example.com`);
  }
  return problems;
}

export function parseCommand(json: string): string[] | undefined {
  try {
    const argv: unknown = JSON.parse(json);
    if (Array.isArray(argv) && argv.length > 0 && argv.every((a) => typeof a === 'string' && a.length > 0)) return argv;
  } catch {
    // not JSON: reported by the caller
  }
  return undefined;
}

export function allowedOrigins(config: Pick<Config, 'ALLOWED_ORIGINS'>): string[] {
  return config.ALLOWED_ORIGINS.split(',')
    .map((o) => o.trim())
    .filter(Boolean);
}

/** TRUST_PROXY as Fastify's trustProxy option: false, true, or the proxies' addresses. */
export function trustProxyOption(value: string | undefined): boolean | string[] {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}
