import type { BreakerReason, BreakerState, CacheError, CacheOperation } from '@cache/core';

/** Why a stale value was returned instead of a fresh one. */
export type StaleReason =
  /** Served while a background refresh runs (`stalePolicy: 'revalidate'`). */
  | 'revalidate'
  /** Served without refreshing (`stalePolicy: 'return'`). */
  | 'return'
  /** The loader failed or passed its hard timeout (fail-safe), or failed recently (backoff). */
  | 'fail-safe'
  /** The loader passed `softTimeoutMs`; it goes on in the background. */
  | 'soft-timeout'
  /** Another caller's loader passed `lockTimeoutMs`. */
  | 'lock-timeout';

/**
 * Everything a cache reports, one object per event with `type` and the key's canonical string. Errors are
 * reported exactly once: either thrown to the caller or emitted here, never both, never neither.
 */
export type CacheEvent =
  /** A fresh value was found; `source` is the label path of the tier that answered, when the store says. */
  | { readonly type: 'hit'; readonly key: string; readonly source: string | undefined }
  /** Nothing usable was found (a store error on read counts as a miss for `getOrSet`). */
  | { readonly type: 'miss'; readonly key: string }
  /** A stale value was returned. */
  | { readonly type: 'stale'; readonly key: string; readonly reason: StaleReason }
  /** A loader started: `background` for a refresh nobody waits for. */
  | { readonly type: 'load'; readonly key: string; readonly background: boolean }
  /** A loader finished with a value (stored unless skipped or superseded). */
  | { readonly type: 'loaded'; readonly key: string; readonly background: boolean; readonly ms: number }
  /** A loader threw or rejected. */
  | {
      readonly type: 'loader-error';
      readonly key: string;
      readonly background: boolean;
      readonly error: CacheError;
    }
  /** A loader passed its soft or hard timeout. */
  | { readonly type: 'loader-timeout'; readonly key: string; readonly kind: 'soft' | 'hard' }
  /** A stale value stood in for a failed or timed-out loader. */
  | { readonly type: 'fail-safe'; readonly key: string; readonly error: CacheError }
  /** A circuit breaker inside the store changed state (`RedisBackend`'s, a `breaker()`, a tier's). */
  | {
      readonly type: 'breaker';
      readonly key: undefined;
      readonly backend: string;
      readonly from: BreakerState;
      readonly to: BreakerState;
      readonly reason: BreakerReason;
    }
  /** The store failed and the cache went on without it (fail-open). */
  | {
      readonly type: 'store-error';
      readonly key: string | undefined;
      readonly operation: CacheOperation;
      readonly error: CacheError;
    }
  /**
   * The lock store (`createCache({ locks })`) failed or a lease was lost: on `acquire`, the loader ran under the
   * in-process lock only (other processes may load the same key meanwhile); on `renew`, the lease may end before
   * the loader does (`LEASE_LOST`: it ended); on `release`, the lock ends with its lease.
   */
  | {
      readonly type: 'lock-error';
      readonly key: string;
      readonly operation: 'acquire' | 'renew' | 'release';
      readonly error: CacheError;
    };

/** The `type` of every {@link CacheEvent}. */
export type CacheEventType = CacheEvent['type'];

/** Counters since the cache was created, shared by a cache and its namespaces. */
export interface CacheStats {
  /** Fresh values returned by `get` and `getOrSet`. */
  readonly hits: number;
  /**
   * Hits per tier label path (`"cache.memory"`, `"cache.redis"`); tiers that do not say count as `"store"`, and
   * values just loaded whose write is still under way as `"in-flight"`, values kept while the store
   * failed (`fallbackTtlMs`) as `"fallback"`.
   */
  readonly hitsBySource: Readonly<Record<string, number>>;
  /** Stale values returned, for any reason. */
  readonly staleHits: number;
  /** Lookups that found nothing usable. */
  readonly misses: number;
  /** Loader calls, foreground and background. */
  readonly loads: number;
  /** Callers that shared another caller's loader instead of starting their own. */
  readonly collapsed: number;
  /** Loader calls that threw or rejected. */
  readonly loaderErrors: number;
  /** Loaders that passed their soft timeout. */
  readonly softTimeouts: number;
  /** Loaders that passed their hard timeout. */
  readonly hardTimeouts: number;
  /** Stale values returned because the loader failed, timed out, or failed recently (backoff). */
  readonly failSafe: number;
  /** Background refreshes started. */
  readonly refreshes: number;
  /** Stale hits served without a refresh because `maxBackgroundRefreshes` were running. */
  readonly refreshesSkipped: number;
  /** Store failures the cache went on without (fail-open). */
  readonly storeErrors: number;
  /** Times a circuit breaker inside the store opened. */
  readonly breakerOpened: number;
  /** Loads that found the key's lock held by another process and waited for it (`createCache({ locks })`). */
  readonly lockWaits: number;
  /** Loads that ran under the in-process lock only, because the lock store failed (`lock-error` events). */
  readonly lockFallbacks: number;
  /** Calls of `set` (loaders' writes are not counted here). */
  readonly sets: number;
  /** Calls of `delete`. */
  readonly deletes: number;
  /** Calls of `clear`. */
  readonly clears: number;
}

/** Mutable counters behind {@link CacheStats}. */
export class Counters {
  hits = 0;
  /** One counter cell per source; the last one used is kept at hand, since hits mostly come from one tier. */
  readonly #bySource = new Map<string, { n: number }>();
  #lastSource: string | undefined;
  #lastCell: { n: number } = { n: 0 };
  staleHits = 0;
  misses = 0;
  loads = 0;
  collapsed = 0;
  loaderErrors = 0;
  softTimeouts = 0;
  hardTimeouts = 0;
  failSafe = 0;
  refreshes = 0;
  refreshesSkipped = 0;
  storeErrors = 0;
  breakerOpened = 0;
  lockWaits = 0;
  lockFallbacks = 0;
  sets = 0;
  deletes = 0;
  clears = 0;

  hit(source: string | undefined): void {
    this.hits++;
    const label = source ?? 'store';
    if (label === this.#lastSource) {
      this.#lastCell.n++;
      return;
    }
    let cell = this.#bySource.get(label);
    if (cell === undefined) {
      cell = { n: 0 };
      this.#bySource.set(label, cell);
    }
    cell.n++;
    this.#lastSource = label;
    this.#lastCell = cell;
  }

  snapshot(): CacheStats {
    // The public fields are the counters, one each; the per-source cells are private and read out here.
    return {
      ...this,
      hitsBySource: Object.fromEntries([...this.#bySource].map(([source, cell]) => [source, cell.n])),
    };
  }
}

type Listener = (event: CacheEvent) => void;

interface Subscription {
  readonly listener: Listener;
  /** The one event type it wants, or `undefined` for every event. */
  readonly type: CacheEventType | undefined;
}

const ERROR_EVENTS: ReadonlySet<CacheEventType> = new Set([
  'loader-error',
  'fail-safe',
  'store-error',
  'lock-error',
]);
const WARN_INTERVAL_MS = 10_000;

/**
 * Delivers events to listeners. Nothing is built when nobody listens (`active` is false), so the hit path
 * pays one boolean check. An error event that no listener takes goes to `console.warn`, one line per kind
 * per 10 s: a listener of `'hit'` alone does not silence `store-error`.
 */
export class Emitter {
  #subscriptions: Subscription[] = [];
  readonly #lastWarned = new Map<string, number>();
  /** True while at least one listener is registered. */
  active = false;

  on(listener: Listener, type?: CacheEventType): () => void {
    const subscription: Subscription = { listener, type };
    this.#subscriptions = [...this.#subscriptions, subscription];
    this.active = true;
    return () => {
      this.#subscriptions = this.#subscriptions.filter((s) => s !== subscription);
      this.active = this.#subscriptions.length > 0;
    };
  }

  /** Delivers `event`; false when no listener takes its type. */
  emit(event: CacheEvent): boolean {
    let delivered = false;
    for (const { listener, type } of this.#subscriptions) {
      if (type !== undefined && type !== event.type) continue;
      delivered = true;
      try {
        listener(event);
      } catch (error) {
        // A listener's bug must neither break the operation that reported the event nor crash the process.
        console.error('[cache] an event listener threw:', error);
      }
    }
    return delivered;
  }

  /** Emits an error event, or warns on the console when no listener takes it. */
  report(event: CacheEvent & { readonly error: CacheError }): void {
    if (this.active && this.emit(event)) return;
    if (!ERROR_EVENTS.has(event.type)) return;
    const kind = `${event.type}:${event.error.code}`;
    const now = Date.now();
    const last = this.#lastWarned.get(kind);
    if (last !== undefined && now - last < WARN_INTERVAL_MS) return;
    this.#lastWarned.set(kind, now);
    console.warn(
      `[cache] ${event.type} (${event.error.code})${event.key === undefined ? '' : ` for ${event.key}`}: ${event.error.message} (listen with cache.on() to handle these; this line repeats at most every 10 s)`,
    );
  }
}
