import { type Awaitable, isPromiseLike } from '../awaitable.js';
import type { CacheBackend, ReadInfo } from '../backend.js';
import { BackendLabel } from '../backend-label.js';
import type { CacheKey } from '../cache-key.js';
import type { CacheValue } from '../cache-value.js';
import { CacheError, type CacheOperation } from '../errors.js';
import type { CompositionEvent, CompositionListener, LayerName, SwallowedOperation } from './events.js';
import type { ResolvedCompositionOptions } from './options.js';
import { attempt, type Failed, andThen } from './outcome.js';
import { RefillGuard, type RefillTicket } from './refill-guard.js';

/** Rethrows outside the current call, so a faulty listener neither breaks the cache nor goes unnoticed. */
function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * The machinery the policies share: the two layers and their label paths, error reporting, refill, background
 * work and listeners. Internal to the composition.
 */
export class LayerPair {
  readonly l1: CacheBackend;
  readonly l2: CacheBackend;
  readonly options: ResolvedCompositionOptions;
  readonly guard: RefillGuard = new RefillGuard();
  readonly listeners: Set<CompositionListener> = new Set();
  readonly #background = new Set<Promise<void>>();
  readonly #paths: Record<LayerName, BackendLabel>;
  // Last source reported by each layer and its composed path: the path is built once, not on every hit.
  readonly #lastL1: { inner: BackendLabel; path: BackendLabel };
  readonly #lastL2: { inner: BackendLabel; path: BackendLabel };

  constructor(l1: CacheBackend, l2: CacheBackend, options: ResolvedCompositionOptions) {
    this.l1 = l1;
    this.l2 = l2;
    this.options = options;
    this.#paths = {
      l1: BackendLabel.compose(options.label, l1.label),
      l2: BackendLabel.compose(options.label, l2.label),
    };
    this.#lastL1 = { inner: l1.label, path: this.#paths.l1 };
    this.#lastL2 = { inner: l2.label, path: this.#paths.l2 };
  }

  layer(name: LayerName): CacheBackend {
    return name === 'l1' ? this.l1 : this.l2;
  }

  /** Label path of a hit from `layer`, from what the layer wrote in its own `ReadInfo` (a nested path, say). */
  source(layer: LayerName, inner: ReadInfo | undefined): BackendLabel {
    const reported = inner?.source ?? this.layer(layer).label;
    const last = layer === 'l1' ? this.#lastL1 : this.#lastL2;
    if (last.inner === reported) return last.path;
    last.inner = reported;
    last.path = BackendLabel.compose(this.options.label, reported);
    return last.path;
  }

  /** Marks a hit from `layer` in the caller's `info` and returns it. */
  hit<T>(
    layer: LayerName,
    value: CacheValue<T>,
    inner: ReadInfo | undefined,
    info: ReadInfo | undefined,
  ): CacheValue<T> {
    if (info !== undefined) info.source = this.source(layer, inner);
    return value;
  }

  /** A layer's error as a `CacheError` naming the layer's label path. */
  wrap(error: unknown, layer: LayerName, operation: CacheOperation, key: CacheKey | undefined): CacheError {
    const backend = this.#paths[layer];
    return CacheError.wrap(error, 'BACKEND', `${operation} failed in "${backend}"`, {
      backend,
      operation,
      ...(key === undefined ? {} : { key: key.canonical }),
    });
  }

  /**
   * The error to throw when no layer could answer and at least one failed: the failed layer's error, or
   * `ALL_LAYERS_FAILED` with both errors in an `AggregateError` cause. `undefined` when nothing failed.
   */
  failure(
    operation: CacheOperation,
    key: CacheKey | undefined,
    l1: Failed | undefined,
    l2: Failed | undefined,
  ): CacheError | undefined {
    if (l1 === undefined) return l2 === undefined ? undefined : this.wrap(l2.error, 'l2', operation, key);
    if (l2 === undefined) return this.wrap(l1.error, 'l1', operation, key);
    const errors = [this.wrap(l1.error, 'l1', operation, key), this.wrap(l2.error, 'l2', operation, key)];
    const label = this.options.label;
    return new CacheError(
      'ALL_LAYERS_FAILED',
      `${operation} failed in every layer of "${label}": ${errors.map((e, i) => `[${this.#paths[i === 0 ? 'l1' : 'l2']}] ${e.message}`).join('; ')}`,
      {
        cause: new AggregateError(errors, `${operation} failed in every layer of "${label}"`),
        backend: label,
        operation,
        ...(key === undefined ? {} : { key: key.canonical }),
      },
    );
  }

  /** Throws {@link failure} when there is one. */
  throwIfFailed(
    operation: CacheOperation,
    key: CacheKey,
    l1: Failed | undefined,
    l2: Failed | undefined,
  ): void {
    const error = this.failure(operation, key, l1, l2);
    if (error !== undefined) throw error;
  }

  /** Hands an error the composition does not throw to `onError`. */
  report(error: unknown, layer: LayerName, operation: SwallowedOperation, key: CacheKey): void {
    const cacheOperation: CacheOperation =
      operation === 'refill' ? 'set' : operation === 'repair' ? 'delete' : operation;
    try {
      this.options.onError({
        error: this.wrap(error, layer, cacheOperation, key),
        composition: this.options.label,
        layer,
        backend: this.#paths[layer],
        operation,
        key,
      });
    } catch (reporterError) {
      rethrowLater(reporterError);
    }
  }

  emit(event: CompositionEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (listenerError) {
        rethrowLater(listenerError);
      }
    }
  }

  /** Follows work that outlives the call that started it; `whenIdle` waits for it. It must never reject. */
  track(work: Promise<void>): void {
    this.#background.add(work);
    void work.then(() => this.#background.delete(work));
  }

  async whenIdle(): Promise<void> {
    while (this.#background.size > 0) await Promise.all(this.#background);
  }

  /**
   * Copies a fresh L2 hit into L1 with its expire and stale instants, without making the read wait for an
   * asynchronous L1. Stale hits, and hits a concurrent change of the key has made doubtful, are not copied.
   */
  refill<T>(
    key: CacheKey,
    value: CacheValue<T>,
    source: BackendLabel,
    ticket: RefillTicket | undefined,
  ): void {
    if (this.options.refill === 'never' || !this.guard.allows(key, ticket)) return;
    if (value.state(this.options.now()) !== 'actual') return;
    const written = attempt(() => this.l1.set(key, value));
    const settle = (outcome: Awaited<typeof written>): void => {
      if (!outcome.ok) this.report(outcome.error, 'l1', 'refill', key);
      else if (this.listeners.size > 0) this.emit({ type: 'refill', key, value, source });
    };
    if (isPromiseLike(written)) this.track(written.then(settle));
    else settle(written);
  }

  /**
   * Removes `key` from a layer whose write failed, so that it does not keep serving the value the write meant
   * to replace. Its own failure is reported, never thrown.
   */
  repair(layer: LayerName, key: CacheKey): Awaitable<void> {
    return andThen(
      attempt(() => this.layer(layer).delete(key)),
      (outcome) => {
        if (!outcome.ok) this.report(outcome.error, layer, 'repair', key);
      },
    );
  }
}
