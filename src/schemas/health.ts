import { Type, type Static } from '@sinclair/typebox';
import { IsoDate, Nullable } from './common.js';

export const HEALTH_STATUSES = ['OK', 'DEGRADED', 'DOWN'] as const;
export const HealthStatus = Type.Union(HEALTH_STATUSES.map((s) => Type.Literal(s)));
export type HealthStatus = Static<typeof HealthStatus>;

export const GEMINI_STATUSES = ['ready', 'not_configured', 'unavailable', 'error', 'unknown'] as const;

export const GeminiHealth = Type.Object(
  {
    service: Type.Literal('Gemini CLI'),
    status: Type.Union(
      GEMINI_STATUSES.map((s) => Type.Literal(s)),
      {
        description:
          'ready; not_configured (no credentials, and GENERATOR is not gemini); unavailable (the CLI cannot be started, or its circuit is open); error (it ran but --version failed); unknown (no check has finished yet)',
      },
    ),
    available: Type.Boolean({ description: 'The last --version check succeeded and the circuit is not open' }),
    configured: Type.Boolean({
      description:
        'Gemini credentials are set (GEMINI_API_KEY, GOOGLE_API_KEY, Vertex) or GENERATOR=gemini was chosen explicitly',
    }),
    version: Nullable(Type.String({ description: 'From `gemini --version`' })),
    latencyMs: Nullable(Type.Number({ description: 'How long the last check took' })),
    checkedAt: Nullable(IsoDate),
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
    circuit: Type.Object({
      state: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half-open')]),
      failures: Type.Integer({ description: 'Consecutive retryable failures counted' }),
      threshold: Type.Integer({ description: 'Failures that open the circuit (CIRCUIT_FAILURE_THRESHOLD)' }),
      cooldownMs: Type.Integer({
        description: 'How long the circuit stays open before one probe (CIRCUIT_COOLDOWN_MS)',
      }),
      openedAt: Type.Optional(Type.String({ format: 'date-time' })),
      nextProbeAt: Type.Optional(Type.String({ format: 'date-time' })),
    }),
    generator: Type.String({ description: 'The generator jobs run with: gemini, command or offline' }),
  },
  { title: 'GeminiHealth' },
);
export type GeminiHealth = Static<typeof GeminiHealth>;

const ServiceBase = {
  status: HealthStatus,
  checkedAt: IsoDate,
};

export const ServicesHealth = Type.Object({
  database: Type.Object({
    ...ServiceBase,
    latencyMs: Nullable(Type.Number()),
    migrationsApplied: Type.Boolean(),
    error: Type.Optional(Type.String()),
  }),
  gemini: Type.Object({
    ...ServiceBase,
    active: Type.Boolean({
      description: 'Jobs run on the Gemini CLI; when false its state does not affect the overall status',
    }),
    cli: Type.Union(GEMINI_STATUSES.map((s) => Type.Literal(s))),
    version: Nullable(Type.String()),
    latencyMs: Nullable(Type.Number()),
    circuit: Type.String(),
  }),
  websocket: Type.Object({ ...ServiceBase, connections: Type.Integer(), subscriptions: Type.Integer() }),
  jobs: Type.Object({
    ...ServiceBase,
    queued: Type.Integer({ description: 'Jobs waiting for a runner; in cluster mode, across every instance' }),
    running: Type.Integer({ description: 'Jobs running on this instance' }),
    clusterRunning: Type.Optional(
      Type.Integer({ description: 'Cluster mode: jobs running on any instance (BullMQ active jobs)' }),
    ),
    queueLimit: Type.Integer(),
    completedLastHour: Type.Integer(),
    failedLastHour: Type.Integer(),
  }),
  redis: Type.Optional(
    Type.Object({ ...ServiceBase, latencyMs: Nullable(Type.Number()), error: Type.Optional(Type.String()) }),
  ),
});
export type ServicesHealth = Static<typeof ServicesHealth>;

export const SystemHealth = Type.Object({
  memory: Type.Object({
    rssBytes: Type.Integer(),
    heapUsedBytes: Type.Integer(),
    heapTotalBytes: Type.Integer(),
    externalBytes: Type.Integer(),
  }),
  loadAverage: Type.Array(Type.Number(), { minItems: 3, maxItems: 3, description: '1, 5 and 15 minutes' }),
  cpus: Type.Integer(),
  eventLoopDelay: Type.Object(
    { p50Ms: Type.Number(), p99Ms: Type.Number(), maxMs: Type.Number(), meanMs: Type.Number() },
    { description: 'Since the previous sample (perf_hooks.monitorEventLoopDelay)' },
  ),
});
export type SystemHealth = Static<typeof SystemHealth>;

export const ClusterInstance = Type.Object(
  {
    id: Type.String({ description: 'host:pid:random, as the logs name it' }),
    self: Type.Boolean({ description: 'The instance that answered this request' }),
    role: Type.Union([Type.Literal('all'), Type.Literal('api'), Type.Literal('worker')], { description: 'ROLE' }),
    hostname: Type.String(),
    pid: Type.Integer(),
    startedAt: IsoDate,
    lastSeen: IsoDate,
    runningJobs: Type.Array(Type.String({ format: 'uuid' }), { description: 'The jobs it is running now' }),
  },
  { title: 'ClusterInstance' },
);
export type ClusterInstance = Static<typeof ClusterInstance>;

export const HealthReport = Type.Object(
  {
    status: HealthStatus,
    reasons: Type.Array(Type.String(), { description: 'Why the status is not OK (empty when OK)' }),
    timestamp: IsoDate,
    sampledAt: IsoDate,
    uptime: Type.Number({ description: 'Seconds since the process started' }),
    version: Type.String(),
    services: ServicesHealth,
    system: SystemHealth,
    instances: Type.Optional(
      Type.Array(ClusterInstance, {
        description:
          'Cluster mode (REDIS_URL) only: the instances alive at the last heartbeat (every 2 s; one that misses three drops off), this one first',
      }),
    ),
  },
  {
    title: 'HealthReport',
    description:
      'Served from checks a background sampler refreshes every HEALTH_SAMPLE_MS; a request never runs a check itself.',
  },
);
export type HealthReport = Static<typeof HealthReport>;

export const Liveness = Type.Object({ status: Type.Literal('alive'), uptime: Type.Number() }, { title: 'Liveness' });
export type Liveness = Static<typeof Liveness>;

export const Readiness = Type.Object(
  {
    ready: Type.Boolean(),
    checks: Type.Object({ database: Type.Boolean(), migrations: Type.Boolean() }),
  },
  { title: 'Readiness' },
);
export type Readiness = Static<typeof Readiness>;
