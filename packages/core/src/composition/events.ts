import type { BackendLabel } from '../backend-label.js';
import type { CacheKey } from '../cache-key.js';
import type { CacheValue } from '../cache-value.js';
import type { DeleteStatus } from '../delete-status.js';
import type { CacheError } from '../errors.js';

/** The two layers of a composition: `l1` is the near one (memory), `l2` the far one (Redis, or a composition). */
export type LayerName = 'l1' | 'l2';

/**
 * What a layer was doing when an error was swallowed: a read, a write, copying an L2 hit into L1 (`refill`),
 * or removing a value a failed write may have left behind (`repair`).
 */
export type SwallowedOperation = 'get' | 'set' | 'refill' | 'repair';

/**
 * A layer error that the composition did not throw, because the operation could still succeed without that
 * layer. Given to `onError`, so nothing is swallowed silently.
 */
export interface CompositionErrorEvent {
  /** The layer's error, as a `CacheError` (anything else is wrapped with code `BACKEND` and kept as `cause`). */
  readonly error: CacheError;
  /** Label of the composition that swallowed the error. */
  readonly composition: BackendLabel;
  /** Which layer failed. */
  readonly layer: LayerName;
  /** Label path of the failed layer, e.g. `"cache.redis"`. */
  readonly backend: BackendLabel;
  /** What the layer was doing. */
  readonly operation: SwallowedOperation;
  /** The key involved. */
  readonly key: CacheKey;
}

/**
 * What happened through a composition, for {@link Composition.subscribe}: a successful `set` or `delete`
 * called on the composition (not on its layers directly), and each refill of L1 from L2. A coherence layer
 * publishes invalidations on `set` and `delete`, never on `refill`, which only copies what L2 already holds.
 */
export type CompositionEvent =
  | { readonly type: 'set'; readonly key: CacheKey; readonly value: CacheValue<unknown> }
  | { readonly type: 'delete'; readonly key: CacheKey; readonly status: DeleteStatus }
  | {
      readonly type: 'refill';
      readonly key: CacheKey;
      readonly value: CacheValue<unknown>;
      /** Label path the value was read from, e.g. `"cache.redis"`. */
      readonly source: BackendLabel;
    };

/** Receives {@link CompositionEvent}s. It must not throw; if it does, the error is rethrown in a microtask. */
export type CompositionListener = (event: CompositionEvent) => void;
