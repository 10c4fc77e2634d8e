import type { BackendLabel } from '../backend-label.js';

/**
 * The states of a {@link CircuitBreaker}: `closed` lets every call through, `open` fails every call at once,
 * `half-open` lets a few probes through to learn whether the store is back.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * Why the state changed:
 * - `failures`: closed → open, the failure threshold was reached;
 * - `probe-failed`: half-open → open, a probe failed (the open time grows);
 * - `open-elapsed`: open → half-open, the open time is over and the next call is a probe;
 * - `probe-succeeded`: half-open → closed;
 * - `reset`: closed by {@link CircuitBreaker.reset}.
 */
export type BreakerReason = 'failures' | 'probe-failed' | 'open-elapsed' | 'probe-succeeded' | 'reset';

/** A state change of a {@link CircuitBreaker}, given to {@link BreakerListener}s. */
export interface BreakerStateChange {
  /** Label of the backend the breaker guards. */
  readonly backend: BackendLabel;
  /** The state before. */
  readonly from: BreakerState;
  /** The state after. */
  readonly to: BreakerState;
  /** Why it changed. */
  readonly reason: BreakerReason;
  /** The failure that opened the breaker, for `failures` and `probe-failed`. */
  readonly error?: unknown;
  /** When the breaker lets the next probe through, in Unix milliseconds, when it opened. */
  readonly retryAt?: number;
  /** When the change happened, by the breaker's clock. */
  readonly at: number;
}

/** Listens to a breaker's state changes. */
export type BreakerListener = (event: BreakerStateChange) => void;

/** What a breaker has counted since it was created. */
export interface BreakerCounters {
  /** Operations let through to the store (probes included). */
  readonly calls: number;
  /** Operations that failed with an error that counts (see `BreakerOptions.isFailure`). */
  readonly failures: number;
  /** Calls refused at once with `CIRCUIT_OPEN`. */
  readonly rejectedOpen: number;
  /** Calls refused at once with `OVERLOADED`. */
  readonly rejectedOverloaded: number;
  /** Times the breaker opened (from closed or from half-open). */
  readonly opened: number;
}
