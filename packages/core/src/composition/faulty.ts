import type { Awaitable } from '../awaitable.js';
import type { CacheBackend, ReadInfo } from '../backend.js';
import type { BackendLabel } from '../backend-label.js';
import {
  type BatchDelete,
  type BatchEntry,
  type BatchRead,
  type BatchWrite,
  deleteMany,
  getMany,
  setMany,
} from '../batch.js';
import type { CacheKey } from '../cache-key.js';
import type { CacheValue } from '../cache-value.js';
import type { DeleteStatus } from '../delete-status.js';
import { CacheError } from '../errors.js';

/** The calls of a backend that {@link faulty} can disturb. */
export type FaultyOperation = 'get' | 'set' | 'delete';

/**
 * A disturbance, for the next `times` calls (until `heal()` when omitted):
 * - `fail`: the call fails with `error` (by default a retryable `CONNECTION` error), as a rejected promise, or
 *   thrown synchronously with `sync: true`, as a synchronous backend would.
 * - `delay`: the call is held `ms` milliseconds, and answers with a promise.
 * - `hang`: the call is held until the operation is healed; forever, if it is not.
 *
 * `at` says where a call is held: before it reaches the backend (`"call"`, a slow request: the backend sees it
 * late) or after the backend answered (`"answer"`, a slow response: a read returns what the store held when it
 * was sent).
 */
export type Fault =
  | { readonly kind: 'fail'; readonly error?: unknown; readonly sync?: boolean; readonly times?: number }
  | { readonly kind: 'delay'; readonly ms: number; readonly at?: FaultPoint; readonly times?: number }
  | { readonly kind: 'hang'; readonly at?: FaultPoint; readonly times?: number };

/** Where a `delay` or `hang` holds a call. @default "call" */
export type FaultPoint = 'call' | 'answer';

const OPERATIONS: readonly FaultyOperation[] = ['get', 'set', 'delete'];

interface ActiveFault {
  readonly fault: Fault;
  remaining: number;
}

/**
 * A backend that passes every call to another one, except the calls it was told to disturb: for testing how
 * a composition, or any code over a {@link CacheBackend}, copes with a layer that fails, slows down or hangs.
 * It keeps the inner backend's label unless given another, so source paths stay the same.
 */
export class FaultyBackend<B extends CacheBackend = CacheBackend> implements CacheBackend {
  /** Name in reports and errors. */
  readonly label: BackendLabel;
  /** The backend the calls go to. */
  readonly inner: B;
  readonly #faults = new Map<FaultyOperation, ActiveFault>();
  readonly #hung = new Map<FaultyOperation, Set<() => void>>();
  readonly #calls: Record<FaultyOperation, number> = { get: 0, set: 0, delete: 0 };
  readonly #batchCalls: Record<FaultyOperation, number> = { get: 0, set: 0, delete: 0 };

  constructor(inner: B, label: BackendLabel = inner.label) {
    this.inner = inner;
    this.label = label;
  }

  /** How many times each operation was called, disturbed or not. */
  get calls(): Readonly<Record<FaultyOperation, number>> {
    return { ...this.#calls };
  }

  /**
   * How many of those calls were batches (`getMany` counts under `get`, `setMany` under `set`, `deleteMany` under
   * `delete`), whatever their size.
   */
  get batchCalls(): Readonly<Record<FaultyOperation, number>> {
    return { ...this.#batchCalls };
  }

  /** How many calls are hanging, waiting for `heal()`. */
  get hanging(): number {
    let count = 0;
    for (const waiting of this.#hung.values()) count += waiting.size;
    return count;
  }

  /** Disturbs the next calls of `operations` (all three by default), replacing their current fault. */
  inject(fault: Fault, operations: readonly FaultyOperation[] = OPERATIONS): this {
    const times = fault.times ?? Number.POSITIVE_INFINITY;
    if (!(times >= 1) || (fault.kind === 'delay' && !(fault.ms >= 0))) {
      throw new CacheError('INVALID_OPTIONS', 'faulty: times must be at least 1 and ms at least 0');
    }
    for (const operation of operations) this.#faults.set(operation, { fault, remaining: times });
    return this;
  }

  /** Removes the faults of `operations` (all by default) and lets their hanging calls through. */
  heal(operations: readonly FaultyOperation[] = OPERATIONS): this {
    for (const operation of operations) {
      this.#faults.delete(operation);
      const waiting = this.#hung.get(operation);
      this.#hung.delete(operation);
      if (waiting !== undefined) for (const release of waiting) release();
    }
    return this;
  }

  get<T>(key: CacheKey, info?: ReadInfo): Awaitable<CacheValue<T> | undefined> {
    return this.#call('get', () => this.inner.get<T>(key, info));
  }

  set<T>(key: CacheKey, value: CacheValue<T>): Awaitable<void> {
    return this.#call('set', () => this.inner.set(key, value));
  }

  delete(key: CacheKey): Awaitable<DeleteStatus> {
    return this.#call('delete', () => this.inner.delete(key));
  }

  /**
   * Reads every key with the inner backend's `getMany` (or one `get` per key): one call of `get`, disturbed as a
   * whole; a failure rejects the whole call, which the `getMany` helper turns into that error in every position.
   */
  getMany<T>(keys: readonly CacheKey[], infos?: readonly ReadInfo[]): Awaitable<BatchRead<T>[]> {
    this.#batchCalls.get += 1;
    return this.#call('get', () => getMany<T>(this.inner, keys, infos));
  }

  /** Writes every entry as one call of `set`, disturbed as a whole like {@link getMany}. */
  setMany<T>(entries: readonly BatchEntry<T>[]): Awaitable<BatchWrite[]> {
    this.#batchCalls.set += 1;
    return this.#call('set', () => setMany(this.inner, entries));
  }

  /** Deletes every key as one call of `delete`, disturbed as a whole like {@link getMany}. */
  deleteMany(keys: readonly CacheKey[]): Awaitable<BatchDelete[]> {
    this.#batchCalls.delete += 1;
    return this.#call('delete', () => deleteMany(this.inner, keys));
  }

  /** Clears by prefix in the inner backend (`INVALID_OPTIONS` when it cannot). Never disturbed. */
  clearPrefix(prefix: string): Promise<void> {
    const inner = this.inner as CacheBackend;
    if (typeof inner.clearPrefix !== 'function') {
      return Promise.reject(
        new CacheError(
          'INVALID_OPTIONS',
          `clearPrefix: "${this.label}" wraps a backend that cannot clear by prefix`,
        ),
      );
    }
    return inner.clearPrefix(prefix);
  }

  /** Closes the inner backend. Never disturbed. */
  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }

  #call<R>(operation: FaultyOperation, run: () => Awaitable<R>): Awaitable<R> {
    this.#calls[operation] += 1;
    const active = this.#faults.get(operation);
    if (active === undefined) return run();
    active.remaining -= 1;
    if (active.remaining <= 0) this.#faults.delete(operation);
    const { fault } = active;
    switch (fault.kind) {
      case 'fail': {
        const error =
          'error' in fault
            ? fault.error
            : new CacheError('CONNECTION', `injected fault: ${operation} failed in "${this.label}"`, {
                backend: this.label,
                operation,
              });
        if (fault.sync === true) throw error;
        return Promise.reject(error);
      }
      case 'delay':
        return this.#hold(fault.at, run, (release) => setTimeout(release, fault.ms));
      case 'hang':
        return this.#hold(fault.at, run, (release) => {
          const waiting = this.#hung.get(operation) ?? new Set<() => void>();
          waiting.add(release);
          this.#hung.set(operation, waiting);
        });
    }
  }

  #hold<R>(
    at: FaultPoint = 'call',
    run: () => Awaitable<R>,
    wait: (release: () => void) => void,
  ): Promise<R> {
    const held = new Promise<void>(wait);
    if (at === 'call') return held.then(run);
    let answer: Promise<R>;
    try {
      answer = Promise.resolve(run());
    } catch (error) {
      answer = Promise.reject(error);
    }
    // Handled once released; until then, a failed answer must not count as an unhandled rejection.
    answer.catch(() => undefined);
    return held.then(() => answer);
  }
}

/**
 * Wraps `backend` so that its calls can be made to fail, slow down or hang on demand (see {@link Fault}).
 *
 * @example
 * const redis = faulty(redisBackend);
 * const cache = compose(memory, redis);
 * redis.inject({ kind: 'hang' }, ['get']); // Redis stops answering reads
 * redis.heal();                            // and comes back
 */
export function faulty<B extends CacheBackend>(
  backend: B,
  options: { readonly label?: BackendLabel } = {},
): FaultyBackend<B> {
  return new FaultyBackend(backend, options.label);
}
