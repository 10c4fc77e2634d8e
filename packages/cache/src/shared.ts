import {
  type Awaitable,
  type CacheBackend,
  CacheError,
  type CacheKey,
  type CacheOperation,
  CacheValue,
  Composition,
  canonicalPrefix,
  isPromiseLike,
  type ReadInfo,
} from '@cache/core';
import { findCircuits } from './circuits.js';
import { DistributedLock } from './distributed-lock.js';
import { Counters, Emitter } from './events.js';
import type { Flight } from './flight.js';
import type { CacheOptions, LifetimeOptions, ResolvedGetOrSetOptions, StoreErrorPolicy } from './options.js';
import {
  DEFAULT_FALLBACK_TTL_MS,
  DEFAULT_MAX_TAGGED_LIFETIME_MS,
  DEFAULT_TAG_CACHE_MS,
  DEFAULTS,
  resolveGetOrSetOptions,
} from './options.js';
import { isTagged, TagClock } from './tags.js';

/** Most keys remembered in fail-safe backoff at once; the oldest is forgotten first. */
const BACKOFF_LIMIT = 10_000;
/** Most values kept for a failing store at once; the oldest is forgotten first. */
const FALLBACK_LIMIT = 10_000;

/** The composition whose near tiers can drop a copy (`invalidate`), when the store has one. */
function nearTiers(store: CacheBackend): Composition | undefined {
  if (store instanceof Composition) return store;
  const composition = (store as { readonly composition?: unknown }).composition;
  return composition instanceof Composition ? composition : undefined;
}

/** A value kept while the store fails. */
interface Kept {
  readonly data: unknown;
  readonly until: number;
  readonly tags: readonly string[] | undefined;
  readonly at: number;
}

/** Drops the oldest entry of `map` when it holds `limit` entries. */
function makeRoom(map: Map<string, unknown>, limit: number): void {
  if (map.size < limit) return;
  const oldest = map.keys().next().value;
  if (oldest !== undefined) map.delete(oldest);
}

/**
 * What a cache and all its namespaces share: the store, the loaders in flight, the fail-safe backoff, the
 * counters and the listeners. Keys of different namespaces differ by prefix, so they never collide here.
 */
export class Shared {
  readonly store: CacheBackend;
  readonly defaults: ResolvedGetOrSetOptions;
  readonly onStoreError: StoreErrorPolicy;
  readonly maxBackgroundRefreshes: number;
  readonly now: () => number;
  readonly counters = new Counters();
  readonly emitter = new Emitter();
  /** Loaders running (or results being written) by canonical key. */
  readonly flights = new Map<string, Flight<unknown>>();
  /** Canonical key → instant until which its stale value is served without calling the loader. */
  readonly backoff = new Map<string, number>();
  /** Background work (refreshes, writes after loads) not yet settled; `close()` waits for the writes. */
  readonly background = new Set<Promise<void>>();
  /** Values loaded while the store failed to take them: canonical key → value and the instant it lapses. */
  readonly #fallback = new Map<string, Kept>();
  /** The invalidation instants of tags (shared by the cache and its namespaces). */
  readonly tags: TagClock;
  /**
   * Each run's start (the `at` of its value) and the tags it was started with (`getOrSet`'s `tags`), to retire
   * it when one of its tags is invalidated, and never to serve its value from memory afterwards.
   */
  readonly runs = new WeakMap<
    Flight<unknown>,
    { readonly at: number; readonly tags: readonly string[] | undefined }
  >();
  readonly #fallbackMs: number;
  readonly #waitUntil: ((work: Promise<unknown>) => void) | undefined;
  readonly #unsubscribe: (() => void)[] = [];
  /** One loader per key across processes, with `createCache({ locks })`. */
  readonly locks: DistributedLock | undefined;
  refreshing = 0;
  closed = false;

  constructor(options: CacheOptions) {
    this.store = options.store;
    this.defaults = resolveGetOrSetOptions(options, DEFAULTS);
    this.onStoreError = options.onStoreError ?? 'report';
    this.maxBackgroundRefreshes = options.maxBackgroundRefreshes ?? 32;
    this.now = options.now ?? Date.now;
    this.#waitUntil = options.waitUntil;
    this.#fallbackMs = options.fallbackTtlMs ?? DEFAULT_FALLBACK_TTL_MS;
    this.locks = options.locks === undefined ? undefined : new DistributedLock(options.locks, this);
    if (options.onEvent !== undefined) this.emitter.on(options.onEvent);
    this.tags = new TagClock({
      store: this.store,
      prefix: options.namespace ? `${options.namespace}:` : '',
      now: this.now,
      cacheMs: options.tagCacheMs ?? DEFAULT_TAG_CACHE_MS,
      maxLifetimeMs: options.maxTaggedLifetimeMs ?? DEFAULT_MAX_TAGGED_LIFETIME_MS,
    });
    for (const circuit of findCircuits(this.store)) {
      this.#unsubscribe.push(
        circuit.subscribe((change) => {
          if (change.to === 'open') this.counters.breakerOpened++;
          if (!this.emitter.active) return;
          const { backend, from, to, reason } = change;
          this.emitter.emit({ type: 'breaker', key: undefined, backend, from, to, reason });
        }),
      );
    }
  }

  /** Stops listening to the store's breakers. */
  detach(): void {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
  }

  /** Keeps `work` (which never rejects) until it settles, and hands it to `waitUntil`. */
  track(work: Promise<void>): void {
    this.background.add(work);
    work.then(() => this.background.delete(work));
    this.#waitUntil?.(work);
  }

  /** The stored form of `data` with `lifetime`, counted from now. */
  entry<T>(data: T, lifetime: LifetimeOptions): CacheValue<T> {
    const ttlMs = lifetime.ttlMs ?? this.defaults.ttlMs;
    if (ttlMs === Number.POSITIVE_INFINITY) return new CacheValue(data);
    return CacheValue.fromTtl(
      data,
      { ttlMs, graceMs: lifetime.graceMs ?? this.defaults.graceMs },
      this.now(),
    );
  }

  /** Remembers that `key`'s loader failed while a stale value existed. */
  backOff(key: CacheKey, ms: number): void {
    if (ms <= 0) return;
    const canonical = key.canonical;
    this.backoff.delete(canonical);
    makeRoom(this.backoff, BACKOFF_LIMIT);
    this.backoff.set(canonical, this.now() + ms);
  }

  /** True while `key` is in fail-safe backoff. */
  inBackoff(key: CacheKey, now: number): boolean {
    const until = this.backoff.get(key.canonical);
    if (until === undefined) return false;
    if (until > now) return true;
    this.backoff.delete(key.canonical);
    return false;
  }

  /**
   * The run of `key` whose value was loaded and whose write is still under way, if it was loaded less than
   * `fallbackTtlMs` ago: such a value is served without reading the store or loading again. An older one
   * (a write that takes that long is failing) is retired, so the next caller reads the store or loads anew.
   */
  loaded(key: CacheKey): Flight<unknown> | undefined {
    if (this.flights.size === 0) return undefined; // the steady state: skip hashing the key
    const flight = this.flights.get(key.canonical);
    if (flight === undefined || !flight.loaded) return undefined;
    const tags = this.tagsOf(flight);
    if (tags !== undefined && this.tags.knownVerdict(tags, this.runs.get(flight)?.at ?? 0) === 'deleted') {
      return undefined;
    }
    if (this.now() - flight.loadedAt < this.#fallbackMs) return flight;
    this.flights.delete(key.canonical);
    return undefined;
  }

  /**
   * A tag envelope read from the store, vetted (see `TagClock.vet`). When a tag invalidated it and the store has
   * near tiers, their copy is dropped and the key read once more: a farther tier may already hold a value
   * written since, so one process's memory tier does not keep answering misses for a key that was reloaded.
   */
  vetRead<T>(
    key: CacheKey,
    value: CacheValue<unknown>,
    info: ReadInfo,
    since?: number,
  ): Awaitable<CacheValue<T> | undefined> {
    const vetted = this.tags.vet<T>(value, since);
    const again = (result: CacheValue<T> | undefined): Awaitable<CacheValue<T> | undefined> => {
      const near = nearTiers(this.store);
      if (result !== undefined || near === undefined) return result;
      const dropped = near.invalidate(key);
      const reread = (): Awaitable<CacheValue<T> | undefined> => {
        const read = this.store.get<unknown>(key, info);
        const vet = (v: CacheValue<unknown> | undefined) =>
          v === undefined || !isTagged(v.data) ? (v as CacheValue<T> | undefined) : this.tags.vet<T>(v);
        return isPromiseLike(read) ? Promise.resolve(read).then(vet) : vet(read);
      };
      return isPromiseLike(dropped) ? Promise.resolve(dropped).then(reread) : reread();
    };
    return isPromiseLike(vetted) ? Promise.resolve(vetted).then(again) : again(vetted);
  }

  /** The tags of a run: those its loader chose, else those it was started with. */
  tagsOf(flight: Flight<unknown>): readonly string[] | undefined {
    return flight.lifetime?.tags ?? this.runs.get(flight)?.tags;
  }

  /**
   * Keeps a loaded value the store failed to take, for `fallbackTtlMs`, with its tags and the instant its
   * data was read (a tagged value is served only while its tags are known not to have been invalidated since).
   */
  keepForOutage(key: CacheKey, data: unknown, tags?: readonly string[], at = 0): void {
    if (this.#fallbackMs <= 0) return;
    this.#fallback.delete(key.canonical);
    makeRoom(this.#fallback, FALLBACK_LIMIT);
    this.#fallback.set(key.canonical, { data, until: this.now() + this.#fallbackMs, tags, at });
  }

  /** The value kept for `key` while the store fails, if it has not lapsed nor been invalidated by a tag. */
  keptForOutage(key: CacheKey): { readonly data: unknown } | undefined {
    const kept = this.#fallback.get(key.canonical);
    if (kept === undefined) return undefined;
    const now = this.now();
    if (kept.until > now) {
      if (kept.tags === undefined) return kept;
      // The store is failing: the instants cannot be read now. Serve only what this process can vouch for: tags
      // known valid, or unknown but loaded less than tagCacheMs ago (the bound a cached instant has anyway).
      const verdict = this.tags.knownVerdict(kept.tags, kept.at);
      if (verdict === 'valid' || (verdict === undefined && now - kept.at <= this.tags.cacheMs)) return kept;
    }
    this.#fallback.delete(key.canonical);
    return undefined;
  }

  /** Reports a store failure the cache went on without. */
  storeError(key: CacheKey | undefined, operation: CacheOperation, error: unknown): void {
    this.counters.storeErrors++;
    this.emitter.report({
      type: 'store-error',
      key: key?.canonical,
      operation,
      error: asCacheError(error, operation, this.store.label, key),
    });
  }

  /** Stops a run from storing or serving its result, e.g. because a `set` or `delete` of its key came after. */
  supersede(key: CacheKey): Promise<void> {
    this.backoff.delete(key.canonical);
    this.#fallback.delete(key.canonical);
    const flight = this.flights.get(key.canonical);
    return flight === undefined ? Promise.resolve() : this.#retire([[key.canonical, flight]]);
  }

  /** {@link supersede} for every key under `prefix`: loads under way will not write back what is cleared. */
  supersedePrefix(prefix: string): Promise<void> {
    const head = canonicalPrefix(prefix);
    for (const map of [this.backoff, this.#fallback]) {
      for (const canonical of map.keys()) if (canonical.startsWith(head)) map.delete(canonical);
    }
    return this.#retire([...this.flights].filter(([canonical]) => canonical.startsWith(head)));
  }

  /** Ends every run (the cache is closing): signals aborted, callers get `reason`; resolves after writes under way. */
  endAll(reason: CacheError): Promise<void> {
    const runs = [...this.flights];
    for (const [, flight] of runs) flight.abort(reason);
    return this.#retire(runs);
  }

  /**
   * Stops `runs` from storing or serving their results and forgets them; resolves once the writes already under
   * way have settled (so a write that follows lands after them), never waiting for a loader that may hang.
   */
  #retire(runs: readonly (readonly [string, Flight<unknown>])[]): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const [canonical, flight] of runs) {
      flight.superseded = true;
      if (this.flights.get(canonical) === flight) this.flights.delete(canonical);
      if (flight.writing !== undefined) writes.push(flight.writing);
    }
    return writes.length === 0 ? Promise.resolve() : Promise.all(writes).then(() => undefined);
  }

  rejectIfClosed(): void {
    if (this.closed) throw new CacheError('CLOSED', 'the cache was closed');
  }
}

/** `error` as a `CacheError` naming the store, the key and the operation. */
export function asCacheError(
  error: unknown,
  operation: CacheOperation,
  backend: string,
  key: CacheKey | undefined,
): CacheError {
  return CacheError.wrap(error, 'BACKEND', `${operation} failed in "${backend}"`, {
    backend,
    operation,
    ...(key === undefined ? {} : { key: key.canonical }),
  });
}
