import type { Config } from '../config.js';
import type { GeminiHealth } from '../schemas/health.js';
import type { CircuitState } from '../generators/circuit-breaker.js';
import { GeneratorError } from '../generators/errors.js';
import type { Generator } from '../generators/generator.js';
import { geminiCredentialsConfigured } from './credentials.js';
import { isoTime } from '../time.js';
import { checkGeminiVersion, type VersionCheck } from './version-check.js';

/** A forced check (?refresh=true) starts at most this often; callers in between get the running or last result. */
export const MIN_REFRESH_MS = 5000;

type Outcome = { at: number; ok: VersionCheck } | { at: number; error: GeneratorError };

/** Codes that mean the CLI cannot even be started, as opposed to a CLI that runs and fails. */
const UNAVAILABLE = new Set(['GENERATOR_NOT_FOUND', 'GENERATOR_NOT_EXECUTABLE', 'GENERATOR_SPAWN_FAILED']);

/**
 * The Gemini CLI's health: a cached `--version` check that only ever runs once
 * at a time (concurrent callers share it), so no number of health requests can
 * start more than one process.
 */
export class GeminiHealthCheck {
  readonly configured: boolean;
  private outcome: Outcome | undefined;
  private running: Promise<void> | undefined;
  private lastStart = Number.NEGATIVE_INFINITY;
  private readonly closing = new AbortController();

  constructor(
    private readonly config: Config,
    private readonly env: NodeJS.ProcessEnv,
    private readonly generator: Generator,
    /** Reads the generator's circuit breaker. */
    private readonly circuit: () => CircuitState,
  ) {
    this.configured = config.GENERATOR === 'gemini' || geminiCredentialsConfigured(config, env);
  }

  get active(): boolean {
    return this.generator.name === 'gemini';
  }

  /** When the last check started (ms since the epoch), for the sampler's schedule. */
  get lastStartedAt(): number {
    return this.lastStart;
  }

  /** Runs a check, or joins the one already running. */
  async check(): Promise<GeminiHealth> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    await this.running;
    return this.view();
  }

  /** A forced check, rate-limited to one start per MIN_REFRESH_MS. */
  async refresh(): Promise<GeminiHealth> {
    if (this.running === undefined && Date.now() - this.lastStart < MIN_REFRESH_MS) return this.view();
    return this.check();
  }

  private async run(): Promise<void> {
    this.lastStart = Date.now();
    try {
      this.outcome = { at: Date.now(), ok: await checkGeminiVersion(this.config, this.env, this.closing.signal) };
    } catch (err) {
      if (this.closing.signal.aborted) return;
      const error =
        err instanceof GeneratorError ? err : new GeneratorError('GEMINI_VERSION_FAILED', String(err), true);
      this.outcome = { at: Date.now(), error };
    }
  }

  /** The cached state; never starts a check. */
  view(): GeminiHealth {
    const circuit = this.circuit();
    const outcome = this.outcome;
    const ok = outcome && 'ok' in outcome ? outcome.ok : undefined;
    const error = outcome && 'error' in outcome ? outcome.error : undefined;
    let status: GeminiHealth['status'];
    if (!this.configured) status = 'not_configured';
    else if (circuit.state === 'open') status = 'unavailable';
    else if (!outcome) status = 'unknown';
    else if (error) status = UNAVAILABLE.has(error.code) ? 'unavailable' : 'error';
    else status = 'ready';
    return {
      service: 'Gemini CLI',
      status,
      available: ok !== undefined && circuit.state !== 'open',
      configured: this.configured,
      version: ok?.version ?? null,
      latencyMs: ok?.latencyMs ?? (typeof error?.details.latencyMs === 'number' ? error.details.latencyMs : null),
      checkedAt: outcome ? isoTime(outcome.at) : null,
      ...(error ? { error: { code: error.code, message: error.message } } : {}),
      circuit,
      generator: this.generator.name,
    };
  }

  /** Stops a running check's process. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.running;
  }
}
