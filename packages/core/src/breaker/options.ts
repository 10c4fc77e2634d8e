import type { BackendLabel } from '../backend-label.js';
import { CacheError } from '../errors.js';
import type { BreakerListener } from './events.js';

/**
 * Options of a {@link CircuitBreaker} and of the {@link breaker} decorator. Every option has a default; the
 * defaults are the {@link BREAKER_DEFAULTS}.
 */
export interface BreakerOptions {
  /** Name in errors and events. @default the wrapped backend's label, or `"backend"` */
  readonly label?: BackendLabel;
  /** Consecutive failures of a sick store (see `isFailure`) that open the breaker. @default 5 */
  readonly failureThreshold?: number;
  /** How long the breaker stays open the first time, in milliseconds, before it lets a probe through. @default 5000 */
  readonly openMs?: number;
  /**
   * Longest open time, in milliseconds. Each failed probe doubles the open time, up to this cap, so a store that
   * stays down is probed less and less often; closing resets it to `openMs`. Equal to `openMs` for a fixed time.
   * @default 60000
   */
  readonly maxOpenMs?: number;
  /** Operations let through at once as probes while half-open; the others fail fast. @default 1 */
  readonly halfOpenProbes?: number;
  /**
   * Most operations in flight at once; past it a call fails at once with `OVERLOADED`. `Infinity` turns the bound off.
   * @default 1000
   */
  readonly maxInFlight?: number;
  /**
   * When the breaker opens, fail the calls still in flight at once with `CIRCUIT_OPEN` instead of letting each
   * wait out its own deadline: the calls sent just before a store froze would otherwise all pay a full deadline.
   * Their late outcomes are ignored (a write may still land, as after a timeout).
   * @default true
   */
  readonly failInFlight?: boolean;
  /**
   * Which errors say the store is sick and count toward opening. Other errors (a value that does not
   * deserialize, an invalid key) neither count nor reset the count.
   * @default {@link isRetryableFailure}: a retryable `CacheError` but `CLOSED` (`CONNECTION`, `TIMEOUT`,
   * `CIRCUIT_OPEN` and `OVERLOADED` of a backend inside)
   */
  readonly isFailure?: (error: unknown) => boolean;
  /**
   * Called on every state change, e.g. to log or count "breaker opened". A listener must not throw: what it
   * throws is rethrown from a microtask, as an uncaught error, and the breaker carries on.
   */
  readonly onStateChange?: BreakerListener;
  /** Clock in Unix milliseconds; open → half-open is decided on the next call by reading it. @default Date.now */
  readonly now?: () => number;
}

/** The defaults of {@link BreakerOptions}. */
export const BREAKER_DEFAULTS: Pick<
  ResolvedBreakerOptions,
  'failureThreshold' | 'openMs' | 'maxOpenMs' | 'halfOpenProbes' | 'maxInFlight' | 'failInFlight'
> = Object.freeze({
  failureThreshold: 5,
  openMs: 5_000,
  maxOpenMs: 60_000,
  halfOpenProbes: 1,
  maxInFlight: 1_000,
  failInFlight: true,
});

/** {@link BreakerOptions} with every default applied. */
export interface ResolvedBreakerOptions {
  readonly label: BackendLabel;
  readonly failureThreshold: number;
  readonly openMs: number;
  readonly maxOpenMs: number;
  readonly halfOpenProbes: number;
  readonly maxInFlight: number;
  readonly failInFlight: boolean;
  readonly isFailure: (error: unknown) => boolean;
  readonly onStateChange: BreakerListener | undefined;
  readonly now: () => number;
}

/**
 * The default of `BreakerOptions.isFailure`: a retryable `CacheError` (the store may recover by itself), except
 * `CLOSED`, which says the backend was closed by its owner, not that the store is sick.
 */
export function isRetryableFailure(error: unknown): boolean {
  return CacheError.is(error) && error.retryable && error.code !== 'CLOSED';
}

function count(value: number | undefined, fallback: number, name: string, infinite = false): number {
  if (value === undefined) return fallback;
  const ok =
    typeof value === 'number' &&
    value >= 1 &&
    (Number.isInteger(value) || (infinite && value === Number.POSITIVE_INFINITY));
  if (!ok) {
    const what = infinite ? 'a whole number of at least 1, or Infinity' : 'a whole number of at least 1';
    throw new CacheError('INVALID_OPTIONS', `breaker: ${name} must be ${what}`);
  }
  return value;
}

function duration(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new CacheError(
      'INVALID_OPTIONS',
      `breaker: ${name} must be a finite number of milliseconds, at least 0`,
    );
  }
  return value;
}

/** Applies the defaults and checks every option; bad options are `INVALID_OPTIONS` errors. */
export function resolveBreakerOptions(
  options: BreakerOptions = {},
  label: BackendLabel = 'backend',
): ResolvedBreakerOptions {
  const openMs = duration(options.openMs, BREAKER_DEFAULTS.openMs, 'openMs');
  const maxOpenMs = duration(options.maxOpenMs, Math.max(openMs, BREAKER_DEFAULTS.maxOpenMs), 'maxOpenMs');
  if (maxOpenMs < openMs) {
    throw new CacheError('INVALID_OPTIONS', 'breaker: maxOpenMs must be at least openMs');
  }
  return {
    label: options.label ?? label,
    failureThreshold: count(options.failureThreshold, BREAKER_DEFAULTS.failureThreshold, 'failureThreshold'),
    openMs,
    maxOpenMs,
    halfOpenProbes: count(options.halfOpenProbes, BREAKER_DEFAULTS.halfOpenProbes, 'halfOpenProbes'),
    maxInFlight: count(options.maxInFlight, BREAKER_DEFAULTS.maxInFlight, 'maxInFlight', true),
    failInFlight: options.failInFlight ?? BREAKER_DEFAULTS.failInFlight,
    isFailure: options.isFailure ?? isRetryableFailure,
    onStateChange: options.onStateChange,
    now: options.now ?? Date.now,
  };
}
