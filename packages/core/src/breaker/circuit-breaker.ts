import { type Awaitable, isPromiseLike } from '../awaitable.js';
import type { BackendLabel } from '../backend-label.js';
import { diagnostics } from '../diagnostics.js';
import { CacheError, type CacheOperation } from '../errors.js';
import type {
  BreakerCounters,
  BreakerListener,
  BreakerReason,
  BreakerState,
  BreakerStateChange,
} from './events.js';
import { type BreakerOptions, type ResolvedBreakerOptions, resolveBreakerOptions } from './options.js';

/** What a refused call's error names, besides the backend: the operation and the key. */
export interface BreakerCallDetails {
  /** The operation refused. */
  readonly operation?: CacheOperation;
  /** The canonical string of the key involved. */
  readonly key?: string;
}

/**
 * A circuit breaker with a bound on operations in flight: the failure envelope of a store that can fall sick.
 *
 * - `closed`: every call goes through. `failureThreshold` consecutive failures that say the store is sick
 *   (retryable `CacheError`s by default: `CONNECTION`, `TIMEOUT`; never a value that does not deserialize)
 *   open it. A success resets the count.
 * - `open`: every call fails at once with `CIRCUIT_OPEN` (retryable), for `openMs`. No timer runs: the first
 *   call after that instant turns the breaker half-open and goes through as a probe.
 * - `half-open`: `halfOpenProbes` calls go through as probes, the others fail at once. A probe that succeeds
 *   closes the breaker; one that fails reopens it for twice the previous open time, up to `maxOpenMs`.
 *
 * Independently of the state, more than `maxInFlight` calls at once fail at once with `OVERLOADED` (retryable).
 * Results of calls sent before the last state change are ignored: a slow call from before the breaker opened
 * neither closes nor extends it. A call answered synchronously is returned synchronously.
 *
 * @example
 * ```ts
 * const circuit = new CircuitBreaker({ label: 'redis', failureThreshold: 5, openMs: 5_000 });
 * const value = await circuit.run(() => redis.read(key), { operation: 'read' });
 * ```
 */
export class CircuitBreaker {
  /** Label of the guarded backend, in errors and events. */
  readonly label: BackendLabel;
  /** The options in force, defaults applied. */
  readonly options: ResolvedBreakerOptions;
  readonly #now: () => number;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #listeners = new Set<BreakerListener>();
  #state: BreakerState = 'closed';
  // Bumped on every state change; a call's outcome counts only in the epoch it was sent in.
  #epoch = 0;
  #consecutive = 0;
  #openFor: number;
  #retryAt = 0;
  #lastFailure: unknown;
  #probes = 0;
  #inFlight = 0;
  #calls = 0;
  #failures = 0;
  #rejectedOpen = 0;
  #rejectedOverloaded = 0;
  #opened = 0;
  /** Calls in flight that the opening of the breaker fails at once (see `failInFlight`). */
  readonly #abandon = new Set<(refusal: CacheError) => void>();

  constructor(options: BreakerOptions = {}) {
    this.options = resolveBreakerOptions(options);
    this.label = this.options.label;
    this.#now = this.options.now;
    this.#isFailure = this.options.isFailure;
    this.#openFor = this.options.openMs;
    if (this.options.onStateChange !== undefined) this.#listeners.add(this.options.onStateChange);
  }

  /**
   * The current state. An open breaker whose open time is over still reads `open` until the next call, which
   * turns it half-open.
   */
  get state(): BreakerState {
    return this.#state;
  }

  /** When an open breaker lets the next probe through, in Unix milliseconds; `undefined` unless open. */
  get retryAt(): number | undefined {
    return this.#state === 'open' ? this.#retryAt : undefined;
  }

  /** Consecutive failures counted while closed. */
  get consecutiveFailures(): number {
    return this.#consecutive;
  }

  /** Operations running now, probes included. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** What the breaker has counted since it was created. */
  get counters(): BreakerCounters {
    return {
      calls: this.#calls,
      failures: this.#failures,
      rejectedOpen: this.#rejectedOpen,
      rejectedOverloaded: this.#rejectedOverloaded,
      opened: this.#opened,
    };
  }

  /** Adds a state change listener; returns the function that removes it. */
  subscribe(listener: BreakerListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Closes the breaker now (an operator's override), whatever its state. */
  reset(): void {
    this.#openFor = this.options.openMs;
    if (this.#state !== 'closed') this.#change('closed', 'reset', undefined);
    this.#consecutive = 0;
  }

  /**
   * Runs `operation` unless the breaker refuses it: open (or half-open with its probes taken) rejects with
   * `CIRCUIT_OPEN`, too many calls in flight with `OVERLOADED`. The outcome is returned as it came: a value given
   * synchronously is returned synchronously, a synchronous throw is rethrown synchronously.
   */
  run<T>(operation: () => Promise<T>, details?: BreakerCallDetails): Promise<T>;
  run<T>(operation: () => Awaitable<T>, details?: BreakerCallDetails): Awaitable<T>;
  run<T>(operation: () => Awaitable<T>, details: BreakerCallDetails = {}): Awaitable<T> {
    let probe = false;
    if (this.#state !== 'closed') {
      const refused = this.#admitProbe(details);
      if (refused !== undefined) return Promise.reject(refused);
      probe = true;
    }
    if (this.#inFlight >= this.options.maxInFlight) {
      if (probe) this.#probes -= 1;
      this.#rejectedOverloaded += 1;
      return Promise.reject(this.#overloaded(details));
    }
    const epoch = this.#epoch;
    this.#inFlight += 1;
    this.#calls += 1;
    let result: Awaitable<T>;
    try {
      result = operation();
    } catch (error) {
      this.#settle(epoch, probe, error);
      throw error;
    }
    if (!isPromiseLike(result)) {
      this.#settle(epoch, probe, undefined, true);
      return result;
    }
    if (probe || !this.options.failInFlight) {
      return Promise.resolve(result).then(
        (value) => {
          this.#settle(epoch, probe, undefined, true);
          return value;
        },
        (error: unknown) => {
          this.#settle(epoch, probe, error);
          throw error;
        },
      );
    }
    const pending = result;
    return new Promise<T>((resolve, reject) => {
      let answered = false;
      const abandon = (refusal: CacheError): void => {
        answered = true;
        reject(
          new CacheError('CIRCUIT_OPEN', refusal.message, {
            ...details,
            backend: this.label,
            cause: refusal.cause,
          }),
        );
      };
      this.#abandon.add(abandon);
      Promise.resolve(pending).then(
        (value) => {
          this.#abandon.delete(abandon);
          this.#settle(epoch, probe, undefined, true);
          if (!answered) resolve(value);
        },
        (error: unknown) => {
          this.#abandon.delete(abandon);
          this.#settle(epoch, probe, error);
          if (!answered) reject(error);
        },
      );
    });
  }

  /** Admits a probe, turning an open breaker half-open once its time is over; else the error to refuse with. */
  #admitProbe(details: BreakerCallDetails): CacheError | undefined {
    if (this.#state === 'open') {
      if (this.#now() < this.#retryAt) {
        this.#rejectedOpen += 1;
        return this.#refusal(details);
      }
      this.#change('half-open', 'open-elapsed', undefined);
    }
    if (this.#probes >= this.options.halfOpenProbes) {
      this.#rejectedOpen += 1;
      return this.#refusal(details);
    }
    this.#probes += 1;
    return undefined;
  }

  #settle(epoch: number, probe: boolean, error: unknown, ok = false): void {
    this.#inFlight -= 1;
    if (probe) this.#probes -= 1;
    const failed = !ok && this.#counts(error);
    if (failed) this.#failures += 1;
    if (epoch !== this.#epoch) return;
    if (ok) {
      if (this.#state === 'closed') this.#consecutive = 0;
      else if (probe) {
        this.#openFor = this.options.openMs;
        this.#change('closed', 'probe-succeeded', undefined);
      }
      return;
    }
    if (!failed) return;
    this.#lastFailure = error;
    if (this.#state === 'closed') {
      this.#consecutive += 1;
      if (this.#consecutive >= this.options.failureThreshold) {
        this.#openFor = this.options.openMs;
        this.#change('open', 'failures', error);
      }
    } else if (probe) {
      this.#openFor = Math.min(this.#openFor * 2, this.options.maxOpenMs);
      this.#change('open', 'probe-failed', error);
    }
  }

  #counts(error: unknown): boolean {
    try {
      return this.#isFailure(error);
    } catch {
      return true;
    }
  }

  #change(to: BreakerState, reason: BreakerReason, error: unknown): void {
    const from = this.#state;
    const at = this.#now();
    this.#state = to;
    this.#epoch += 1;
    this.#consecutive = 0;
    let event: BreakerStateChange = { backend: this.label, from, to, reason, at };
    if (to === 'open') {
      this.#retryAt = at + this.#openFor;
      this.#opened += 1;
      event = { ...event, error, retryAt: this.#retryAt };
    }
    if (to === 'open' && this.#abandon.size > 0) {
      const refusal = new CacheError(
        'CIRCUIT_OPEN',
        `${this.label}: circuit breaker opened while this call was in flight; failing it now instead of at its deadline`,
        { backend: this.label, cause: error },
      );
      const abandoned = [...this.#abandon];
      this.#abandon.clear();
      for (const abandon of abandoned) abandon(refusal);
    }
    const channels = diagnostics();
    if (channels?.event.hasSubscribers) {
      channels.event.publish({ type: 'breaker', backend: this.label, from, to, reason });
    }
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (thrown) {
        // A listener's bug must not corrupt the breaker, nor vanish: report it as an uncaught error.
        queueMicrotask(() => {
          throw thrown;
        });
      }
    }
  }

  #refusal(details: BreakerCallDetails): CacheError {
    const message =
      this.#state === 'open'
        ? `${this.label}: circuit breaker open after repeated failures; next probe in ${Math.max(0, this.#retryAt - this.#now())} ms (at ${new Date(this.#retryAt).toISOString()})`
        : `${this.label}: circuit breaker half-open, waiting for its probe; other calls fail fast until it succeeds`;
    return new CacheError('CIRCUIT_OPEN', message, {
      ...details,
      backend: this.label,
      ...(this.#lastFailure === undefined ? {} : { cause: this.#lastFailure }),
    });
  }

  #overloaded(details: BreakerCallDetails): CacheError {
    return new CacheError(
      'OVERLOADED',
      `${this.label}: ${this.#inFlight} operations in flight, the most allowed (maxInFlight); failing fast`,
      { ...details, backend: this.label },
    );
  }
}
