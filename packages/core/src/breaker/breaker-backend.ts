import { type Awaitable, isPromiseLike } from '../awaitable.js';
import type { CacheBackend, ReadInfo } from '../backend.js';
import {
  type BatchDelete,
  type BatchEntry,
  type BatchRead,
  type BatchWrite,
  batchError,
  deleteMany,
  getMany,
  retryableFailureOf,
  setMany,
} from '../batch.js';
import type { BackendLabel } from '../backend-label.js';
import type { CacheKey } from '../cache-key.js';
import type { CacheValue } from '../cache-value.js';
import type { DeleteStatus } from '../delete-status.js';
import { CacheError } from '../errors.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { BreakerOptions } from './options.js';

/**
 * A backend whose calls go through a {@link CircuitBreaker}: `get`, `set`, `delete` and `clear` (when the inner
 * backend has one) fail at once with `CIRCUIT_OPEN` while the breaker is open and with `OVERLOADED` past
 * `maxInFlight`. `close` always goes through. It keeps the inner backend's label, so source paths stay the same,
 * and it is itself a backend, so it nests inside compositions. A synchronous answer of the inner backend (a memory
 * hit) is returned synchronously.
 *
 * The breaker learns of a hung store only when its calls fail: wrap a backend that has deadlines of its own.
 */
export class BreakerBackend<B extends CacheBackend = CacheBackend> implements CacheBackend {
  /** Name in reports and errors: the inner backend's. */
  readonly label: BackendLabel;
  /** The backend the calls go to. */
  readonly inner: B;
  /** The breaker the calls go through: its state, counters and listeners. */
  readonly circuit: CircuitBreaker;
  /**
   * Removes every entry, through the breaker; present only when the inner backend has `clear()`, so a composition
   * sees the same capability through the decorator.
   */
  readonly clear?: (...args: unknown[]) => Promise<unknown>;
  /** Clears by key prefix, through the breaker; present only when the inner backend has `clearPrefix`. */
  readonly clearPrefix?: (prefix: string) => Promise<void>;

  constructor(inner: B, options: BreakerOptions = {}) {
    if (typeof inner !== 'object' || inner === null || typeof inner.get !== 'function') {
      throw new CacheError('INVALID_OPTIONS', 'breaker: the backend must be a CacheBackend');
    }
    this.inner = inner;
    this.label = inner.label;
    this.circuit = new CircuitBreaker({ label: inner.label, ...options });
    const clear = (inner as { clear?: unknown }).clear;
    if (typeof clear === 'function') {
      this.clear = (...args: unknown[]) =>
        Promise.resolve(this.circuit.run(() => clear.apply(inner, args), { operation: 'clear' }));
    }
    const clearPrefix = inner.clearPrefix;
    if (typeof clearPrefix === 'function') {
      this.clearPrefix = (prefix: string) =>
        Promise.resolve(this.circuit.run(() => clearPrefix.call(inner, prefix), { operation: 'clear' }));
    }
  }

  get<T>(key: CacheKey, info?: ReadInfo): Awaitable<CacheValue<T> | undefined> {
    return this.circuit.run(() => this.inner.get<T>(key, info), {
      operation: 'get',
      key: key.canonical,
    });
  }

  set<T>(key: CacheKey, value: CacheValue<T>): Awaitable<void> {
    return this.circuit.run(() => this.inner.set(key, value), {
      operation: 'set',
      key: key.canonical,
    });
  }

  delete(key: CacheKey): Awaitable<DeleteStatus> {
    return this.circuit.run(() => this.inner.delete(key), {
      operation: 'delete',
      key: key.canonical,
    });
  }

  /**
   * Reads every key through the breaker as one call (the inner backend's `getMany`, or one `get` per key). The
   * call counts as failed when a position holds a retryable error (the store failed for those keys); a refused
   * call puts `CIRCUIT_OPEN` or `OVERLOADED` in every position.
   */
  getMany<T>(keys: readonly CacheKey[], infos?: readonly ReadInfo[]): Awaitable<BatchRead<T>[]> {
    return this.#batch('get', keys.length, () => getMany<T>(this.inner, keys, infos));
  }

  /** Writes every entry through the breaker as one call; failures count as for {@link getMany}. */
  setMany<T>(entries: readonly BatchEntry<T>[]): Awaitable<BatchWrite[]> {
    return this.#batch('set', entries.length, () => setMany(this.inner, entries));
  }

  /** Deletes every key through the breaker as one call; failures count as for {@link getMany}. */
  deleteMany(keys: readonly CacheKey[]): Awaitable<BatchDelete[]> {
    return this.#batch('delete', keys.length, () => deleteMany(this.inner, keys));
  }

  #batch<R>(operation: 'get' | 'set' | 'delete', count: number, run: () => Awaitable<R[]>): Awaitable<R[]> {
    // The breaker learns of a failure by a throw; the positions answered are kept to be returned all the same.
    let answered: R[] | undefined;
    const judge = (results: R[]): R[] => {
      const failure = retryableFailureOf(results);
      if (failure === undefined) return results;
      answered = results;
      throw failure;
    };
    const recover = (error: unknown): R[] =>
      answered ?? new Array<R>(count).fill(batchError(error, this.label, operation, undefined) as R);
    let result: Awaitable<R[]>;
    try {
      result = this.circuit.run(
        () => {
          const inner = run();
          return isPromiseLike(inner) ? Promise.resolve(inner).then(judge) : judge(inner);
        },
        { operation },
      );
    } catch (error) {
      return recover(error);
    }
    return isPromiseLike(result) ? Promise.resolve(result).catch(recover) : result;
  }

  /** Closes the inner backend. Never refused by the breaker. */
  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}

/**
 * Wraps `backend` in a circuit breaker with a bound on calls in flight (see {@link CircuitBreaker} for the
 * states and {@link BreakerOptions} for the defaults). Put it around a store that can fall sick, so that once it
 * has failed `failureThreshold` times in a row every call, and a composition's write repair, fails at once
 * instead of waiting out a deadline.
 *
 * @example
 * ```ts
 * const l2 = breaker(remoteBackend, { failureThreshold: 5, openMs: 5_000 });
 * l2.circuit.subscribe((e) => console.warn(`${e.backend}: breaker ${e.from} -> ${e.to} (${e.reason})`));
 * const cache = compose(memoryBackend({ maxEntries: 10_000 }), l2);
 * ```
 */
export function breaker<B extends CacheBackend>(backend: B, options: BreakerOptions = {}): BreakerBackend<B> {
  return new BreakerBackend(backend, options);
}
