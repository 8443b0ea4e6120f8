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

/** What a breaker's state is made of; in cluster mode, what the instances share. */
export interface CircuitCounts {
  /** Consecutive retryable failures. */
  failures: number;
  /** When it last opened (ms since the epoch); undefined while closed. */
  openedAt: number | undefined;
}

/**
 * Stops hammering a generator that keeps failing: after `threshold` consecutive
 * retryable failures it opens and refuses calls for `cooldownMs`, then lets one
 * probe through (half-open); the probe's success closes it, its failure opens it
 * again. Cancellations and non-retryable errors (bad input, auth) say nothing
 * about whether the generator is up, so they neither count nor reset.
 * This one counts in this process; `SharedCircuitBreaker` shares the count between instances.
 */
export class CircuitBreaker {
  private counts: CircuitCounts = { failures: 0, openedAt: undefined };
  /** A probe of this process is running. */
  protected probing = false;
  protected readonly now: () => number;

  constructor(protected readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  private current(): CircuitStateName {
    const { openedAt } = this.counts;
    if (openedAt === undefined) return 'closed';
    return this.now() < openedAt + this.options.cooldownMs ? 'open' : 'half-open';
  }

  /** Synchronous, from what this process knows: the routes read it on every request. */
  state(): CircuitState {
    const state = this.current();
    const { failures, openedAt } = this.counts;
    return {
      state,
      failures,
      threshold: this.options.threshold,
      cooldownMs: this.options.cooldownMs,
      ...(openedAt === undefined
        ? {}
        : { openedAt: isoTime(openedAt), nextProbeAt: isoTime(openedAt + this.options.cooldownMs) }),
    };
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    const probe = await this.admit();
    try {
      const result = await call();
      await this.succeeded(probe);
      return result;
    } catch (err) {
      if (countsAsFailure(err)) await this.failed(probe);
      throw err;
    } finally {
      if (probe) this.probeEnded();
    }
  }

  /** The probe has ended, whatever its outcome (a neutral one leaves the circuit half-open for the next). */
  protected probeEnded(): void {
    this.probing = false;
  }

  /**
   * Lets a call through (true when it is the probe) or throws CircuitOpenError. Decides
   * synchronously, before its first await, so that of two callers in a row only one probes.
   */
  protected admit(): boolean | Promise<boolean> {
    return this.admitHere();
  }

  /** admit() by what this process knows. */
  protected admitHere(): boolean {
    const state = this.current();
    if (state === 'open' || (state === 'half-open' && this.probing)) throw new CircuitOpenError(this.state());
    if (state === 'closed') return false;
    this.probing = true;
    return true;
  }

  protected succeeded(_probe: boolean): void | Promise<void> {
    this.set(afterSuccess());
  }

  protected failed(probe: boolean): void | Promise<void> {
    this.set(afterFailure(this.counts, probe, this.options.threshold, this.now()));
  }

  /** Takes new counts; onChange hears of every opening and closing (an open circuit opening again included). */
  protected set(next: CircuitCounts): void {
    const from = this.current();
    const changed = next.openedAt !== this.counts.openedAt;
    this.counts = next;
    if (changed) this.options.onChange?.(this.state(), from);
  }
}

/** A success anywhere closes the circuit and resets the count. */
function afterSuccess(): CircuitCounts {
  return { failures: 0, openedAt: undefined };
}

/**
 * A failure counts; it opens the circuit when it was the probe's, or when a closed circuit reaches the
 * threshold. (A call that began before the circuit opened and fails after counts, and opens nothing.)
 */
function afterFailure(counts: CircuitCounts, probe: boolean, threshold: number, now: number): CircuitCounts {
  const failures = counts.failures + 1;
  const opens = probe || (counts.openedAt === undefined && failures >= threshold);
  return { failures, openedAt: opens ? now : counts.openedAt };
}

function countsAsFailure(err: unknown): boolean {
  if (err instanceof CancelledError) return false;
  return !(err instanceof GeneratorError) || err.retryable;
}

/** The same generator, with every attempt going through the breaker. */
export function withCircuitBreaker(generator: Generator, breaker: CircuitBreaker): Generator {
  return { name: generator.name, run: (input) => breaker.run(() => generator.run(input)) };
}
