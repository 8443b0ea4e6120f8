import { CancelledError, GeneratorError } from './errors.js';
import { isoTime } from '../time.js';
import type { Generator } from './generator.js';

export type CircuitStateName = 'closed' | 'open' | 'half-open';

export interface CircuitState {
  state: CircuitStateName;
  /** Consecutive retryable failures so far. */
  failures: number;
  threshold: number;
  cooldownMs: number;
  openedAt?: string;
  /** When an open circuit lets its next probe through. */
  nextProbeAt?: string;
}

export interface CircuitBreakerOptions {
  threshold: number;
  cooldownMs: number;
  now?: () => number;
  onChange?(to: CircuitState, from: CircuitStateName): void;
}

/** What an attempt refused by an open circuit fails with; not retryable, so the job fails at once instead of burning attempts. */
export class CircuitOpenError extends GeneratorError {
  constructor(state: CircuitState) {
    super(
      'GENERATOR_CIRCUIT_OPEN',
      `The generator failed ${state.failures} times in a row, so attempts are refused until ${state.nextProbeAt ?? 'a probe succeeds'}; try again later`,
      false,
      { nextProbeAt: state.nextProbeAt },
    );
    this.name = 'CircuitOpenError';
  }
}

/**
 * Stops hammering a generator that keeps failing: after `threshold` consecutive
 * retryable failures it opens and refuses calls for `cooldownMs`, then lets one
 * probe through (half-open); the probe's success closes it, its failure opens it
 * again. Cancellations and non-retryable errors (bad input, auth) say nothing
 * about whether the generator is up, so they neither count nor reset.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private probing = false;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  private current(): CircuitStateName {
    if (this.openedAt === undefined) return 'closed';
    return this.now() < this.openedAt + this.options.cooldownMs ? 'open' : 'half-open';
  }

  state(): CircuitState {
    const state = this.current();
    return {
      state,
      failures: this.failures,
      threshold: this.options.threshold,
      cooldownMs: this.options.cooldownMs,
      ...(this.openedAt === undefined
        ? {}
        : { openedAt: isoTime(this.openedAt), nextProbeAt: isoTime(this.openedAt + this.options.cooldownMs) }),
    };
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    const state = this.current();
    if (state === 'open' || (state === 'half-open' && this.probing)) throw new CircuitOpenError(this.state());
    const probe = state === 'half-open';
    if (probe) this.probing = true;
    try {
      const result = await call();
      this.succeeded();
      return result;
    } catch (err) {
      if (countsAsFailure(err)) this.failed(probe);
      throw err;
    } finally {
      if (probe) this.probing = false;
    }
  }

  private succeeded(): void {
    const from = this.current();
    this.failures = 0;
    if (this.openedAt === undefined) return;
    this.openedAt = undefined;
    this.options.onChange?.(this.state(), from);
  }

  private failed(probe: boolean): void {
    const from = this.current();
    this.failures++;
    if (probe || (from === 'closed' && this.failures >= this.options.threshold)) {
      this.openedAt = this.now();
      this.options.onChange?.(this.state(), from);
    }
  }
}

function countsAsFailure(err: unknown): boolean {
  if (err instanceof CancelledError) return false;
  return !(err instanceof GeneratorError) || err.retryable;
}

/** The same generator, with every attempt going through the breaker. */
export function withCircuitBreaker(generator: Generator, breaker: CircuitBreaker): Generator {
  return { name: generator.name, run: (input) => breaker.run(() => generator.run(input)) };
}
