/**
 * What the `@cache` packages publish on Node's `diagnostics_channel`, for tracers and metrics (`@cache/otel`) to
 * subscribe to without the packages depending on them. Where the runtime has no `diagnostics_channel` (browsers,
 * some edge runtimes) nothing is published and nothing is loaded. Nobody subscribed costs one boolean check.
 *
 * Four tracing channels (start / end / asyncStart / asyncEnd / error, see Node's `TracingChannel`) and one plain
 * channel for point events. Contexts carry the key's canonical string: subscribers decide whether to record it.
 *
 * Subscribers of `cache:operation` and `cache:operation:sample` must handle `start`: producers check only that
 * channel, to keep an unobserved call cheap.
 *
 * Two ways to watch operations, at two prices:
 * - `cache:operation` traces every operation: what spans need, and it costs every call a trace.
 * - `cache:operation:sample` traces a sample of them (see {@link OPERATION_SAMPLING}), for latency histograms;
 *   counts come exact and free from the caches' own counters, found through {@link observedCaches}.
 */

/** The channel names. Stable: they are part of the API. */
export const DIAGNOSTICS_CHANNELS: {
  /** Tracing channel: one trace per cache operation of `@cache/cache` ({@link OperationContext}). */
  readonly operation: 'cache:operation';
  /**
   * Tracing channel: the same traces for a sample of the operations only ({@link OPERATION_SAMPLING}), for
   * latency histograms at a bounded cost. An operation traced on both channels gets one context for both.
   */
  readonly operationSample: 'cache:operation:sample';
  /** Tracing channel: one trace per loader run, foreground or background refresh ({@link LoadContext}). */
  readonly load: 'cache:load';
  /** Tracing channel: one trace per operation a backend sends to a remote store ({@link StoreContext}). */
  readonly store: 'cache:store';
  /** Plain channel: point events ({@link DiagnosticsEvent}). */
  readonly event: 'cache:event';
} = Object.freeze({
  operation: 'cache:operation',
  operationSample: 'cache:operation:sample',
  load: 'cache:load',
  store: 'cache:store',
  event: 'cache:event',
});

/**
 * How producers sample operations on {@link DIAGNOSTICS_CHANNELS.operationSample}: every operation while the
 * process makes fewer than `perSecond` of them a second; above that, one in every 2^n (n up to
 * `log2(maxInterval)`), chosen so that about `perSecond` are traced a second. The interval is re-chosen at each
 * sampled operation from the time since the previous one (at most doubling at a time, falling at once), so only
 * sampled operations read the clock; after a burst, the next sample comes at most `maxInterval` operations later,
 * however slowly they come.
 */
export const OPERATION_SAMPLING: { readonly perSecond: 1000; readonly maxInterval: 1024 } = Object.freeze({
  perSecond: 1000,
  maxInterval: 1024,
});

/** The operations traced on {@link DIAGNOSTICS_CHANNELS.operation}. */
export type TracedOperation = 'get' | 'set' | 'delete' | 'getOrSet' | 'clear' | 'invalidateTags';

/**
 * The context of an operation trace. The producer fills the fields under "filled before the end" before the
 * trace ends; Node's `TracingChannel` adds `result` or `error`.
 */
export interface OperationContext {
  readonly operation: TracedOperation;
  /** The cache's namespace prefix, e.g. `"app:users:"` (`""` for none). */
  readonly namespace: string;
  /** The key's canonical string (`CacheKey.canonical`); `undefined` for `clear` and `invalidateTags`. */
  readonly key: string | undefined;
  /** Filled before the end, for `get` and `getOrSet`: what the caller got. */
  outcome?: 'hit' | 'stale' | 'miss';
  /** Filled before the end on a hit: the label path of the tier that answered, `"in-flight"` or `"fallback"`. */
  source?: string;
  /** Filled before the end when a stale value stood in for a failed or timed-out loader. */
  failSafe?: boolean;
  /** Set by the tracing channel: the operation's result, or its error. */
  result?: unknown;
  error?: unknown;
}

/** The context of a loader trace. */
export interface LoadContext {
  readonly namespace: string;
  readonly key: string;
  /** True for a refresh nobody waits for. */
  readonly background: boolean;
  /** Filled before the end: how the run ended (`aborted`: `close()` ended it; nothing failed). */
  outcome?: 'loaded' | 'skipped' | 'failed' | 'timeout' | 'aborted';
  result?: unknown;
  error?: unknown;
}

/** The context of a store operation trace (what a backend sends to Redis). */
export interface StoreContext {
  /** The backend's label, e.g. `"redis"`. */
  readonly backend: string;
  /** The store's kind, for `db.system`: `"redis"`. */
  readonly system: string;
  /** `read`, `write`, `remove` or `clear`. */
  readonly operation: 'read' | 'write' | 'remove' | 'clear';
  /** The canonical key, when the operation has one. */
  readonly key: string | undefined;
  /** Filled before the end when known: payload bytes read or written. */
  bytes?: number;
  result?: unknown;
  error?: unknown;
}

/** Point events on {@link DIAGNOSTICS_CHANNELS.event}. */
export type DiagnosticsEvent =
  | {
      readonly type: 'breaker';
      readonly backend: string;
      readonly from: 'closed' | 'open' | 'half-open';
      readonly to: 'closed' | 'open' | 'half-open';
      readonly reason: string;
    }
  | {
      readonly type: 'coherence-message';
      readonly backend: string;
      readonly kind: 'invalidation' | 'heartbeat';
    }
  | { readonly type: 'coherence-trust'; readonly backend: string; readonly trusted: boolean }
  | {
      readonly type: 'memory-size';
      readonly backend: string;
      readonly entries: number;
      readonly bytes: number;
    };

/** The part of Node's `TracingChannel` the packages use. */
export interface Tracing<C extends object> {
  readonly hasSubscribers: boolean;
  /**
   * Its `start` channel. On the hot path (`cache:operation`, `cache:operation:sample`) producers check only
   * `start.hasSubscribers`, one getter instead of five: a subscriber of those channels must handle `start` (a
   * no-op handler is enough).
   */
  readonly start: { readonly hasSubscribers: boolean };
  tracePromise<T>(fn: () => Promise<T>, context: C): Promise<T>;
  traceSync<T>(fn: () => T, context: C): T;
}

/** The part of Node's `Channel` the packages use. */
export interface PointChannel<E> {
  readonly hasSubscribers: boolean;
  publish(message: E): void;
}

/** The channels, when the runtime has `diagnostics_channel`. */
export interface Diagnostics {
  readonly operation: Tracing<OperationContext>;
  readonly operationSample: Tracing<OperationContext>;
  readonly load: Tracing<LoadContext>;
  readonly store: Tracing<StoreContext>;
  readonly event: PointChannel<DiagnosticsEvent>;
}

interface DiagnosticsChannelModule {
  tracingChannel(name: string): unknown;
  channel(name: string): unknown;
}

let loaded: Diagnostics | null | undefined;

/**
 * The channels, or `undefined` where the runtime has no `diagnostics_channel`. Loaded once, through
 * `process.getBuiltinModule` (never a static import, so bundles for other runtimes stay clean).
 */
export function diagnostics(): Diagnostics | undefined {
  if (loaded === undefined) {
    loaded = null;
    try {
      const runtime = globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } };
      const dc = runtime.process?.getBuiltinModule?.('node:diagnostics_channel') as
        | DiagnosticsChannelModule
        | undefined;
      if (dc !== undefined) {
        loaded = {
          operation: dc.tracingChannel(DIAGNOSTICS_CHANNELS.operation) as Tracing<OperationContext>,
          operationSample: dc.tracingChannel(
            DIAGNOSTICS_CHANNELS.operationSample,
          ) as Tracing<OperationContext>,
          load: dc.tracingChannel(DIAGNOSTICS_CHANNELS.load) as Tracing<LoadContext>,
          store: dc.tracingChannel(DIAGNOSTICS_CHANNELS.store) as Tracing<StoreContext>,
          event: dc.channel(DIAGNOSTICS_CHANNELS.event) as PointChannel<DiagnosticsEvent>,
        };
      }
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/**
 * The counters of a cache as an observer reads them: `@cache/cache`'s `CacheStats` has these fields and more.
 * Monotonic from the cache's creation.
 */
export interface ObservedCacheStats {
  /** Fresh values returned by lookups (`get`, `getOrSet` and their batch forms). */
  readonly hits: number;
  /** `hits` per tier label path; `"in-flight"` and `"fallback"` for values not read from a tier. */
  readonly hitsBySource: Readonly<Record<string, number>>;
  /** Stale values returned, for any reason. */
  readonly staleHits: number;
  /** The part of `staleHits` that stood in for a failed or timed-out loader. */
  readonly failSafe: number;
  /** Lookups that found nothing usable. */
  readonly misses: number;
  /** Values stored by `set` (loaders' writes are not counted here). */
  readonly sets: number;
  /** Keys removed by `delete`. */
  readonly deletes: number;
  /** Calls of `clear`. */
  readonly clears: number;
}

/** A cache an observer can read counters from: `@cache/cache`'s `Cache` is one. */
export interface ObservedCache {
  /** The cache's namespace prefix (`""` for none). */
  readonly prefix: string;
  /** Its counters now. */
  stats(): ObservedCacheStats;
}

const REGISTRY = Symbol.for('@cache/core:observed-caches');

interface CacheRegistry {
  readonly refs: Set<WeakRef<ObservedCache>>;
  /** Drops a cache's reference once the cache is collected, so the set never outgrows the live caches. */
  readonly collected: FinalizationRegistry<WeakRef<ObservedCache>>;
}

/** One registry per process, even when several copies of `@cache/core` are loaded. */
function registry(): CacheRegistry {
  const global = globalThis as { [REGISTRY]?: CacheRegistry };
  let found = global[REGISTRY];
  if (found === undefined) {
    const refs = new Set<WeakRef<ObservedCache>>();
    found = { refs, collected: new FinalizationRegistry((ref) => refs.delete(ref)) };
    Object.defineProperty(globalThis, REGISTRY, { value: found });
  }
  return found;
}

/**
 * Makes `cache` visible to {@link observedCaches} for as long as it is alive (held weakly: registering keeps
 * nothing alive) or until `unobserveCache`. `@cache/cache` registers each cache `createCache` makes.
 */
export function observeCache(cache: ObservedCache): void {
  if (typeof WeakRef !== 'function' || typeof FinalizationRegistry !== 'function') return;
  const { refs, collected } = registry();
  const ref = new WeakRef(cache);
  refs.add(ref);
  collected.register(cache, ref, ref);
}

/** Stops listing `cache` in {@link observedCaches} (a closed cache). */
export function unobserveCache(cache: ObservedCache): void {
  if (typeof WeakRef !== 'function' || typeof FinalizationRegistry !== 'function') return;
  const { refs, collected } = registry();
  for (const ref of refs) {
    if (ref.deref() !== cache) continue;
    refs.delete(ref);
    collected.unregister(ref);
  }
}

/** The caches registered with {@link observeCache} and still alive, oldest first: what metrics read at collection. */
export function observedCaches(): ObservedCache[] {
  if (typeof WeakRef !== 'function' || typeof FinalizationRegistry !== 'function') return [];
  const alive: ObservedCache[] = [];
  for (const ref of registry().refs) {
    const cache = ref.deref();
    if (cache !== undefined) alive.push(cache);
  }
  return alive;
}
