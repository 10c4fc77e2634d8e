import {
  type Awaitable,
  CacheError,
  type CacheKey,
  type CacheValue,
  isPromiseLike,
  type Lease,
  LeasedValue,
  type OperationContext,
  observeCache,
  type ReadInfo,
  unobserveCache,
} from '@cache/core';
import type { CacheEvent, CacheEventType, CacheStats, StaleReason } from './events.js';
import { Flight, type Loader } from './flight.js';
import { type KeyInput, KeyMaker } from './keys.js';
import {
  type CacheOptions,
  checkCacheOptions,
  checkLifetime,
  type GetOptions,
  type GetOrSetOptions,
  type LifetimeOptions,
  type ResolvedGetOrSetOptions,
  checkTags,
  resolveGetOrSetOptions,
} from './options.js';
import { asCacheError, Shared } from './shared.js';
import type { BatchLoader } from './batch.js';
import {
  type BatchCallHost,
  deleteManyCall,
  getManyCall,
  getOrSetManyCall,
  type SetManyEntry,
  setManyCall,
} from './batch-calls.js';
import { type InvalidateTagsOptions, isTagged, TaggedValue } from './tag-envelope.js';
import { answered, operationContext, operationTracing, startLoad } from './tracing.js';

/** Options of {@link Cache.wrap}: how to build the key from the arguments, and the `getOrSet` options. */
export interface WrapOptions<A extends unknown[]> extends GetOrSetOptions {
  /** The key of one call, from its arguments. */
  readonly key: (...args: A) => KeyInput;
}

/** The source of hits served from a loaded value whose write is still under way. */
const IN_FLIGHT = 'in-flight';
/** The source of hits served from values kept while the store failed (see `fallbackTtlMs`). */
const FALLBACK = 'fallback';

/** Sentinel of a caller's own wait limit (soft or lock timeout) firing before the loader settled. */
const WAITED_TOO_LONG: unique symbol = Symbol('waited too long');

/** True when `value` (not expired, as every backend guarantees) is fresh at `now`; reads the clock only if needed. */
function isFresh(value: CacheValue<unknown>, now: () => number): boolean {
  const stale = value.stale;
  if (stale === undefined) return true;
  if (value.expire !== undefined && stale >= value.expire) return true;
  return stale > now();
}

/**
 * The cache users call: `getOrSet` with one loader per key at a time, stale values served while refreshing
 * or when the loader fails, loader timeouts, and a store whose failures never fail a `getOrSet`. Made by
 * {@link createCache}; `namespace()` gives child caches sharing the same store, loaders and counters.
 */
export class Cache {
  readonly #shared: Shared;
  readonly #keys: KeyMaker;
  /** This cache's steps lent to batch calls, made on the first one. */
  #batchHost: BatchCallHost | undefined;
  /** The ReadInfo lent to synchronous reads (see `getOrSet`). */
  #info: ReadInfo = {};
  /** Asynchronous store reads of `getOrSet` under way, by canonical key (see `#readShared`). */
  readonly #reads = new Map<
    string,
    {
      readonly read: Promise<CacheValue<unknown> | undefined>;
      readonly info: ReadInfo;
      readonly epoch: number;
    }
  >();

  /** @internal Use {@link createCache}. */
  constructor(shared: Shared, keys: KeyMaker) {
    this.#shared = shared;
    this.#keys = keys;
  }

  /** The key prefix of this cache (`""` for none, `"app:users:"` for `namespace('users')` of `"app"`). */
  get prefix(): string {
    return this.#keys.prefix;
  }

  /** The `CacheKey` a key input maps to in this cache (its namespace as prefix). */
  key(input: KeyInput): CacheKey {
    return this.#keys.key(input);
  }

  /** A child cache whose keys are prefixed with this one's namespace and `name`. */
  namespace(name: string): Cache {
    return new Cache(this.#shared, this.#keys.child(name));
  }

  /**
   * The value at `key`, or `undefined`. Stale values are misses unless `allowStale`. A store failure is
   * reported (`store-error`) and answered as a miss, or rejected with `onStoreError: 'throw'`.
   */
  get<T>(input: KeyInput, options: GetOptions = {}): Promise<T | undefined> {
    const s = this.#shared;
    let key: CacheKey;
    try {
      s.rejectIfClosed();
      key = this.#keys.key(input);
    } catch (error) {
      return Promise.reject(error);
    }
    const tracing = operationTracing();
    if (tracing === undefined) return this.#get(key, options, undefined);
    const trace = operationContext('get', this.prefix, key.canonical);
    return tracing.tracePromise(() => this.#get<T>(key, options, trace), trace);
  }

  /**
   * The value at `key`; when it is missing, runs `loader` (once per key at a time, whoever else asks
   * meanwhile), stores its result and returns it. Stale values, timeouts and failures follow the options:
   * see the guide (`docs/caching-a-function.md`). Store failures never fail this call: a failed read is a
   * miss, a failed write is reported.
   */
  getOrSet<T, S = T>(input: KeyInput, loader: Loader<T, S>, options?: GetOrSetOptions): Promise<T> {
    const s = this.#shared;
    let key: CacheKey;
    try {
      if (s.closed) s.rejectIfClosed();
      key = this.#keys.key(input);
    } catch (error) {
      return Promise.reject(error);
    }
    const load = loader as unknown as Loader<T>;
    const tracing = operationTracing();
    if (tracing === undefined) return this.#getOrSet(key, load, options, undefined);
    const trace = operationContext('getOrSet', this.prefix, key.canonical);
    return tracing.tracePromise(() => this.#getOrSet(key, load, options, trace), trace);
  }

  /** Stores `data` at `key` for `ttlMs` (+ `graceMs`). Rejects when the store fails: nothing is swallowed. */
  set<T>(input: KeyInput, data: T, options: LifetimeOptions = {}): Promise<void> {
    const s = this.#shared;
    try {
      s.rejectIfClosed();
      const key = this.#keys.key(input);
      const lifetime = checkLifetime(options, s.defaults);
      const entry = s.entry(data, lifetime);
      const value: CacheValue<unknown> =
        lifetime.tags === undefined ? entry : s.tags.wrap(entry, lifetime.tags, s.tags.stamp());
      s.counters.sets++;
      const run = (): Promise<void> =>
        s
          .supersede(key)
          .then(() => s.store.set(key, value))
          .catch((error: unknown) => {
            throw asCacheError(error, 'set', s.store.label, key);
          });
      const tracing = operationTracing();
      if (tracing === undefined) return run();
      return tracing.tracePromise(run, operationContext('set', this.prefix, key.canonical));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Removes `key` from the store (every tier of a composition); true when an entry was removed. Rejects when a
   * tier failed, since that tier may still serve the value (the error names it).
   */
  delete(input: KeyInput): Promise<boolean> {
    const s = this.#shared;
    try {
      s.rejectIfClosed();
      const key = this.#keys.key(input);
      s.counters.deletes++;
      const run = (): Promise<boolean> =>
        s
          .supersede(key)
          .then(() => s.store.delete(key))
          .then(
            (status) => status.kind === 'deleted',
            (error: unknown) => {
              throw asCacheError(error, 'delete', s.store.label, key);
            },
          );
      const tracing = operationTracing();
      if (tracing === undefined) return run();
      return tracing.tracePromise(run, operationContext('delete', this.prefix, key.canonical));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The values at `keys`, in their order (`undefined` for a miss), with one batched read of the store (one round
   * trip per Redis node, none for memory hits). As `get` for each key: fresh values only unless `allowStale`;
   * a key whose read failed is reported and a miss, or rejects the call with `onStoreError: 'throw'`.
   */
  getMany<T>(keys: readonly KeyInput[], options: GetOptions = {}): Promise<(T | undefined)[]> {
    return getManyCall<T>(this.#host(), keys, options);
  }

  /**
   * Stores every entry (each with the shared `options` under its own lifetimes and tags), in one batched write
   * (one round trip per Redis node). Rejects when an entry could not be stored, with the first failure (the
   * others were stored): nothing is swallowed.
   */
  setMany<T>(entries: readonly SetManyEntry<T>[], options: LifetimeOptions = {}): Promise<void> {
    return setManyCall(this.#host(), entries, options);
  }

  /**
   * Removes `keys` from the store (every tier of a composition) in one batch; for each key, true when an entry
   * was removed. Rejects when a tier failed for a key (the error names it), since it may still serve the value.
   */
  deleteMany(keys: readonly KeyInput[]): Promise<boolean[]> {
    return deleteManyCall(this.#host(), keys);
  }

  /**
   * The values at `keys`, in their order; the keys that miss are loaded by ONE call of `loader`, which receives
   * them as the caller gave them and returns their values in the same order. A key already loading (a
   * `getOrSet` or another batch in flight) is not loaded again: its callers join that run. Each key follows the
   * rules of `getOrSet` (stale values, fail-safe, timeouts, tags). Rejects with the first key's error when a key
   * has no value; {@link getOrSetManySettled} gives each key's outcome instead.
   */
  getOrSetMany<T, S = T>(
    keys: readonly KeyInput[],
    loader: BatchLoader<T, S>,
    options?: GetOrSetOptions,
  ): Promise<T[]> {
    return this.getOrSetManySettled(keys, loader, options).then((outcomes) =>
      outcomes.map((outcome) => {
        if (outcome.status === 'rejected') throw outcome.reason;
        return outcome.value;
      }),
    );
  }

  /** {@link getOrSetMany}, with each key's outcome (its value or its error) in the order of `keys`. */
  getOrSetManySettled<T, S = T>(
    keys: readonly KeyInput[],
    loader: BatchLoader<T, S>,
    options?: GetOrSetOptions,
  ): Promise<PromiseSettledResult<T>[]> {
    return getOrSetManyCall(this.#host(), keys, loader as unknown as BatchLoader<T>, options);
  }

  /**
   * Removes every entry of this cache's namespace, child namespaces included, from the store (every tier of a
   * composition); a cache without a namespace removes everything the store holds. Loads under way will not
   * write back what was cleared. Needs a store with `clearPrefix` (memory, Redis, compositions of them);
   * rejects when a tier may still serve entries, naming it.
   */
  clear(): Promise<void> {
    const s = this.#shared;
    try {
      s.rejectIfClosed();
      const clearPrefix = s.store.clearPrefix;
      if (typeof clearPrefix !== 'function') {
        throw new CacheError(
          'INVALID_OPTIONS',
          `clear: the store "${s.store.label}" cannot clear by prefix`,
          {
            backend: s.store.label,
            operation: 'clear',
          },
        );
      }
      const prefix = this.#keys.prefix;
      s.counters.clears++;
      const run = (): Promise<void> =>
        s
          .supersedePrefix(prefix)
          .then(() => clearPrefix.call(s.store, prefix))
          .catch((error: unknown) => {
            throw asCacheError(error, 'clear', s.store.label, undefined);
          });
      const tracing = operationTracing();
      if (tracing === undefined) return run();
      return tracing.tracePromise(run, operationContext('clear', prefix, undefined));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Invalidates every entry tagged with one of `tags`, in every tier and every process sharing the store
   * (passive: each tag's invalidation instant is written under a reserved key, and tagged entries are checked
   * against it when read). Once this resolves, no entry written before it with one of the tags is served by
   * this process, fresh, stale or as a fail-safe fallback; other processes stop within `tagCacheMs` (under
   * `coherentTiers`, within its coherence bound). With `{ mode: 'expire' }` the entries turn stale instead, and
   * may still be served as stale values within their grace window. Loads under way for those tags in this
   * process do not store their results. Rejects when the instants could not be written, naming the tier.
   */
  invalidateTags(tags: readonly string[], options: InvalidateTagsOptions = {}): Promise<void> {
    const s = this.#shared;
    try {
      s.rejectIfClosed();
      const list = checkTags(tags);
      const mode = options.mode ?? 'delete';
      if (mode !== 'delete' && mode !== 'expire') {
        throw new CacheError('INVALID_OPTIONS', 'invalidateTags: mode must be "delete" or "expire"');
      }
      if (list === undefined) return Promise.resolve();
      const wanted = new Set(list);
      const retired: Promise<void>[] = [];
      for (const flight of [...s.flights.values()]) {
        if (s.tagsOf(flight)?.some((tag) => wanted.has(tag))) retired.push(s.supersede(flight.key));
      }
      const run = (): Promise<void> =>
        s.tags.invalidate(list, mode).then(
          () => Promise.all(retired).then(() => undefined),
          (error: unknown) => {
            throw asCacheError(error, 'set', s.store.label, undefined);
          },
        );
      const tracing = operationTracing();
      if (tracing === undefined) return run();
      return tracing.tracePromise(run, operationContext('invalidateTags', this.prefix, undefined));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Memoizes `fn`: each call's key comes from `options.key(...args)`, and its result is cached with the
   * other options as by `getOrSet`.
   */
  wrap<A extends unknown[], R>(
    fn: (...args: A) => R | PromiseLike<R>,
    options: WrapOptions<A>,
  ): (...args: A) => Promise<Awaited<R>> {
    if (typeof fn !== 'function' || typeof options?.key !== 'function') {
      throw new CacheError('INVALID_OPTIONS', 'wrap needs a function and a key option that is a function');
    }
    const { key, ...rest } = options;
    resolveGetOrSetOptions(rest, this.#shared.defaults); // invalid options fail here, not on the first miss
    return (...args: A) => {
      let input: KeyInput;
      try {
        input = key(...args);
      } catch (error) {
        return Promise.reject(error);
      }
      return this.getOrSet(input, () => fn(...args) as Awaited<R> | PromiseLike<Awaited<R>>, rest);
    };
  }

  /** Counters since the cache was created (shared with its namespaces). */
  stats(): CacheStats {
    return this.#shared.counters.snapshot();
  }

  /** Calls `listener` with every event of `type`; returns the function that stops it. */
  on<K extends CacheEventType>(
    type: K,
    listener: (event: Extract<CacheEvent, { type: K }>) => void,
  ): () => void;
  /** Calls `listener` with every event. */
  on(listener: (event: CacheEvent) => void): () => void;
  on(
    typeOrListener: CacheEventType | ((event: CacheEvent) => void),
    listener?: (event: never) => void,
  ): () => void {
    if (typeof typeOrListener === 'function') return this.#shared.emitter.on(typeOrListener);
    if (typeof listener !== 'function') throw new CacheError('INVALID_OPTIONS', 'on() needs a listener');
    return this.#shared.emitter.on(listener as (event: CacheEvent) => void, typeOrListener);
  }

  /**
   * Stops the cache: loaders still running are aborted (their results are dropped), writes under way are
   * awaited, then the store is closed. Later calls reject with `CLOSED`. Closing a namespace closes the cache.
   */
  async close(): Promise<void> {
    const s = this.#shared;
    if (s.closed) return;
    s.closed = true;
    const root = roots.get(s);
    if (root !== undefined) unobserveCache(root);
    s.detach();
    await s.endAll(new CacheError('CLOSED', 'the cache was closed'));
    await s.store.close?.();
    await s.locks?.store.close?.();
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────────────────
  // `trace` is the context of a traced call (someone listens on `cache:operation`), else `undefined`.

  /** This cache's steps, lent to the batch calls (made once per cache, on its first batch call). */
  #host(): BatchCallHost {
    this.#batchHost ??= {
      shared: this.#shared,
      keys: this.#keys,
      getFailed: (key, error, trace) => this.#getFailed(key, error, trace),
      answerGet: (key, value, info, options, trace) => this.#answerGet(key, value, info, options, trace),
      vetted: (key, value, info, then, failed) => this.#vetted(key, value, info, then, failed),
      hit: (key, data, source, trace) => this.#hit(key, data, source, trace),
      miss: (key, trace) => this.#miss(key, trace),
      staleServed: (key, data, reason, trace) => this.#staleServed(key, data, reason, trace),
      readFailed: (key, error, trace) => this.#readFailed(key, error, trace),
      load: (key, loader, options, stale, trace, started) =>
        this.#load(key, loader, options, stale, trace, started),
      start: (key, loader, options, stale, background) =>
        this.#start(key, loader, options, stale, background),
    };
    return this.#batchHost;
  }

  #get<T>(key: CacheKey, options: GetOptions, trace: OperationContext | undefined): Promise<T | undefined> {
    const s = this.#shared;
    const loaded = s.loaded(key);
    if (loaded !== undefined) return Promise.resolve(this.#hit(key, loaded.value as T, IN_FLIGHT, trace));
    const info: ReadInfo = {};
    let read: CacheValue<T> | undefined | PromiseLike<CacheValue<T> | undefined>;
    try {
      read = s.store.get<T>(key, info);
    } catch (error) {
      return this.#getFailed<T>(key, error, trace);
    }
    const answer = (value: CacheValue<T> | undefined): T | undefined | Promise<T | undefined> =>
      value !== undefined && isTagged(value.data)
        ? this.#vetted<T, T | undefined>(
            key,
            value,
            info,
            (vetted) => this.#answerGet(key, vetted, info, options, trace),
            (error) => this.#getFailed<T>(key, error, trace),
          )
        : this.#answerGet(key, value, info, options, trace);
    if (isPromiseLike(read)) {
      return Promise.resolve(read).then(answer, (error: unknown) => this.#getFailed<T>(key, error, trace));
    }
    return Promise.resolve(answer(read));
  }

  /**
   * A tag envelope read from the store, as the value to serve (`undefined` when a tag invalidated it), handed
   * to `then`; `failed` gets the error when the tags' instants cannot be read.
   */
  #vetted<T, R>(
    key: CacheKey,
    value: CacheValue<unknown>,
    info: ReadInfo,
    then: (value: CacheValue<T> | undefined) => R | Promise<R>,
    failed: (error: unknown) => R | Promise<R>,
    since?: number,
  ): R | Promise<R> {
    let vetted: CacheValue<T> | undefined | PromiseLike<CacheValue<T> | undefined>;
    try {
      vetted = this.#shared.vetRead<T>(key, value, info, since);
    } catch (error) {
      return failed(error);
    }
    return isPromiseLike(vetted) ? Promise.resolve(vetted).then(then, failed) : then(vetted);
  }

  /** The steps of `getOrSet`, each marking what the caller got on `trace` when the call is traced. */
  #getOrSet<T>(
    key: CacheKey,
    load: Loader<T>,
    options: GetOrSetOptions | undefined,
    trace: OperationContext | undefined,
  ): Promise<T> {
    const s = this.#shared;
    const loaded = s.loaded(key);
    if (loaded !== undefined) return Promise.resolve(this.#hit(key, loaded.value as T, IN_FLIGHT, trace));
    const joined = s.flights.size === 0 ? undefined : this.#joinCold(key, load, options, trace);
    if (joined !== undefined) return joined;
    // Tags known before the read: their invalidation instants are read beside the entry, not after it.
    // One ReadInfo serves every synchronous read (a memory hit allocates nothing for it); a read that answers
    // with a promise keeps the object it was given, and later reads get a new one.
    const info = this.#info;
    let read: CacheValue<T> | undefined | PromiseLike<CacheValue<T> | undefined>;
    try {
      read = this.#readShared<T>(key, info);
    } catch (error) {
      this.#info = {};
      return this.#afterRead(key, undefined, error, info, load, options, trace);
    }
    if (isPromiseLike(read)) {
      this.#info = {};
      // Tags known before the answer: their invalidation instants are read beside the entry (the same pipeline),
      // not after it. A synchronous read (memory) needs no head start.
      const tags = options?.tags ?? s.defaults.tags;
      let since: number | undefined;
      if (tags !== undefined && Array.isArray(tags)) {
        since = s.now();
        s.tags.prefetch(tags);
      }
      return Promise.resolve(read).then(
        (value) => this.#afterRead(key, value, undefined, info, load, options, trace, since),
        (error: unknown) => this.#afterRead<T>(key, undefined, error, info, load, options, trace, since),
      );
    }
    const source = info.source;
    (info as { source?: string | undefined }).source = undefined;
    if (read !== undefined && isFresh(read, s.now)) {
      const data = read.data;
      if (!isTagged(data)) return Promise.resolve(this.#hit(key, data, source, trace));
      // A tagged hit whose tags this process trusts: no allocation, no await (the other cases: #afterRead).
      if (s.tags.servable(data)) {
        return Promise.resolve(this.#hit(key, data.data as T, source, trace));
      }
    }
    return this.#afterRead(
      key,
      read,
      undefined,
      source === undefined ? {} : { source },
      load,
      options,
      trace,
    );
  }

  /**
   * The store read of `key` for `getOrSet`: a caller that comes while an asynchronous read of the same key is
   * under way (and no `set`, `delete` or `clear` came since it started) shares it, so a stampede on a key costs
   * one store read, not one per caller. Synchronous reads (memory) are never shared.
   */
  #readShared<T>(
    key: CacheKey,
    info: ReadInfo,
  ): CacheValue<T> | undefined | PromiseLike<CacheValue<T> | undefined> {
    const s = this.#shared;
    const epoch = s.counters.sets + s.counters.deletes + s.counters.clears;
    const pending = this.#reads.size === 0 ? undefined : this.#reads.get(key.canonical);
    if (pending !== undefined && pending.epoch === epoch) {
      return pending.read.then((value) => {
        if (pending.info.source !== undefined) info.source = pending.info.source;
        return value as CacheValue<T> | undefined;
      });
    }
    const read = s.store.get<T>(key, info);
    if (!isPromiseLike(read)) return read;
    const shared = Promise.resolve(read);
    const canonical = key.canonical;
    this.#reads.set(canonical, { read: shared, info, epoch });
    const forget = (): void => {
      if (this.#reads.get(canonical)?.read === shared) this.#reads.delete(canonical);
    };
    shared.then(forget, forget);
    return shared;
  }

  /**
   * Joins the loader of `key` when one runs that started on a miss: the store has no value for it yet, so the
   * caller waits for the loader without reading the store (nor, with `locks`, Redis) again.
   */
  #joinCold<T>(
    key: CacheKey,
    load: Loader<T>,
    callOptions: GetOrSetOptions | undefined,
    trace: OperationContext | undefined,
  ): Promise<T> | undefined {
    const s = this.#shared;
    const flight = s.flights.get(key.canonical);
    if (flight === undefined || !flight.cold || flight.loaded) return undefined;
    let options: ResolvedGetOrSetOptions;
    try {
      options = callOptions === undefined ? s.defaults : resolveGetOrSetOptions(callOptions, s.defaults);
    } catch (invalid) {
      return Promise.reject(invalid);
    }
    this.#miss(key, trace);
    return this.#load(key, load, options, undefined, trace);
  }

  #hit<T>(key: CacheKey, data: T, source: string | undefined, trace?: OperationContext): T {
    const s = this.#shared;
    if (trace !== undefined) answered(trace, 'hit', source);
    s.counters.hit(source);
    if (s.emitter.active) s.emitter.emit({ type: 'hit', key: key.canonical, source });
    return data;
  }

  #miss(key: CacheKey, trace: OperationContext | undefined): void {
    const s = this.#shared;
    answered(trace, 'miss');
    s.counters.misses++;
    if (s.emitter.active) s.emitter.emit({ type: 'miss', key: key.canonical });
  }

  #staleServed<T>(key: CacheKey, data: T, reason: StaleReason, trace: OperationContext | undefined): T {
    const s = this.#shared;
    if (trace !== undefined) {
      trace.outcome = 'stale';
      if (reason === 'fail-safe') trace.failSafe = true;
    }
    s.counters.staleHits++;
    if (reason === 'fail-safe') s.counters.failSafe++;
    if (s.emitter.active) s.emitter.emit({ type: 'stale', key: key.canonical, reason });
    return data;
  }

  #answerGet<T>(
    key: CacheKey,
    value: CacheValue<T> | undefined,
    info: ReadInfo,
    options: GetOptions,
    trace: OperationContext | undefined,
  ): T | undefined {
    const s = this.#shared;
    if (value === undefined) {
      this.#miss(key, trace);
      return undefined;
    }
    if (isFresh(value, s.now)) return this.#hit(key, value.data, info.source, trace);
    if (options.allowStale === true) {
      if (trace !== undefined && info.source !== undefined) trace.source = info.source;
      return this.#staleServed(key, value.data, 'return', trace);
    }
    this.#miss(key, trace);
    return undefined;
  }

  #getFailed<T>(key: CacheKey, error: unknown, trace: OperationContext | undefined): Promise<T | undefined> {
    const s = this.#shared;
    if (s.onStoreError === 'throw') return Promise.reject(asCacheError(error, 'get', s.store.label, key));
    const kept = this.#readFailed<T>(key, error, trace);
    if (kept !== undefined) return kept;
    this.#miss(key, trace);
    return Promise.resolve(undefined);
  }

  /** Reports a failed store read; answers from the value kept for the outage (`fallbackTtlMs`), if there is one. */
  #readFailed<T>(key: CacheKey, error: unknown, trace: OperationContext | undefined): Promise<T> | undefined {
    const s = this.#shared;
    s.storeError(key, 'get', error);
    const kept = s.keptForOutage(key);
    return kept === undefined ? undefined : Promise.resolve(this.#hit(key, kept.data as T, FALLBACK, trace));
  }

  #afterRead<T>(
    key: CacheKey,
    value: CacheValue<T> | undefined,
    error: unknown,
    info: ReadInfo,
    loader: Loader<T>,
    callOptions: GetOrSetOptions | undefined,
    trace?: OperationContext,
    since?: number,
  ): Promise<T> {
    const s = this.#shared;
    if (error !== undefined) {
      const kept = this.#readFailed<T>(key, error, trace);
      if (kept !== undefined) return kept;
    } else if (value !== undefined && isTagged(value.data)) {
      const data = value.data;
      if (isFresh(value, s.now) && s.tags.servable(data)) {
        return Promise.resolve(this.#hit(key, data.data as T, info.source, trace));
      }
      const next = (vetted: CacheValue<T> | undefined, failure?: unknown): Promise<T> =>
        this.#afterRead(key, vetted, failure, info, loader, callOptions, trace);
      return Promise.resolve(
        this.#vetted<T, T>(key, value, info, next, (failure) => next(undefined, failure), since),
      );
    }
    let options: ResolvedGetOrSetOptions;
    try {
      options = callOptions === undefined ? s.defaults : resolveGetOrSetOptions(callOptions, s.defaults);
    } catch (invalid) {
      return Promise.reject(invalid);
    }
    if (value !== undefined) {
      const now = s.now();
      const state = value.state(now);
      if (state === 'actual') return Promise.resolve(this.#hit(key, value.data, info.source, trace));
      if (state === 'stale') {
        if (trace !== undefined && info.source !== undefined) trace.source = info.source;
        return this.#onStale(key, value, loader, options, now, trace);
      }
    }
    const loaded = s.loaded(key);
    if (loaded !== undefined) return Promise.resolve(this.#hit(key, loaded.value as T, IN_FLIGHT, trace));
    this.#miss(key, trace);
    return this.#load(key, loader, options, undefined, trace);
  }

  #onStale<T>(
    key: CacheKey,
    stale: CacheValue<T>,
    loader: Loader<T>,
    options: ResolvedGetOrSetOptions,
    now: number,
    trace: OperationContext | undefined,
  ): Promise<T> {
    const s = this.#shared;
    if (options.stalePolicy === 'return')
      return Promise.resolve(this.#staleServed(key, stale.data, 'return', trace));
    if (s.inBackoff(key, now)) {
      return Promise.resolve(this.#staleServed(key, stale.data, 'fail-safe', trace));
    }
    if (options.stalePolicy === 'revalidate') {
      this.#refresh(key, loader, options, stale);
      return Promise.resolve(this.#staleServed(key, stale.data, 'revalidate', trace));
    }
    // The caller waits for the loader: a miss once the loaded value answers (counted in #load), unless a stale
    // value stands in (marked then).
    return this.#load(key, loader, options, stale, trace);
  }

  /** Starts a background refresh of `key` unless one (or a foreground load) already runs, or too many do. */
  #refresh<T>(
    key: CacheKey,
    loader: Loader<T>,
    options: ResolvedGetOrSetOptions,
    stale: CacheValue<T>,
  ): void {
    const s = this.#shared;
    if (s.flights.has(key.canonical)) return;
    if (s.refreshing >= s.maxBackgroundRefreshes) {
      s.counters.refreshesSkipped++;
      return;
    }
    s.refreshing++;
    s.counters.refreshes++;
    const flight = this.#start(key, loader, options, stale, true);
    flight.promise.then(
      () => undefined,
      () => undefined,
    );
  }

  /** Joins the loader of `key` in flight, or starts one, and waits for it within the caller's limits. */
  #load<T>(
    key: CacheKey,
    loader: Loader<T>,
    options: ResolvedGetOrSetOptions,
    stale: CacheValue<T> | undefined,
    trace: OperationContext | undefined,
    started?: Flight<T>,
  ): Promise<T> {
    const s = this.#shared;
    let flight = started ?? (s.flights.get(key.canonical) as Flight<T> | undefined);
    const leader = started !== undefined || flight === undefined;
    if (flight === undefined) {
      flight = this.#start(key, loader, options, stale, false);
    } else if (started === undefined) {
      s.counters.collapsed++;
    }
    // A caller with a stale value waits at most softTimeoutMs; one that joined another's loader at most
    // lockTimeoutMs. The first limit to pass decides which stale reason (or error) it gets.
    let waitMs = stale === undefined ? undefined : options.softTimeoutMs;
    let reason: StaleReason = 'soft-timeout';
    if (
      !leader &&
      options.lockTimeoutMs !== undefined &&
      (waitMs === undefined || options.lockTimeoutMs < waitMs)
    ) {
      waitMs = options.lockTimeoutMs;
      reason = 'lock-timeout';
    }
    const outcome = waitMs === undefined ? flight.promise : raceLimit(flight.promise, waitMs);
    const current = flight;
    return outcome.then(
      (value) => {
        if (value === WAITED_TOO_LONG) {
          if (stale instanceof TaggedValue) {
            // The stale value answers only if no tag of it was invalidated while this caller waited.
            const verdict = s.tags.verdict(stale.tags, stale.at);
            return Promise.resolve(verdict).then((v) => {
              if (v !== 'deleted') return this.#waitedTooLong(key, current, stale, reason, options, trace);
              if (reason === 'lock-timeout')
                return this.#waitedTooLong(key, current, undefined, reason, options, trace);
              return current.promise.then((loaded) => {
                this.#miss(key, trace);
                return loaded;
              });
            });
          }
          return this.#waitedTooLong(key, current, stale, reason, options, trace);
        }
        // A caller that had a stale value and waited for the loader (stalePolicy 'inline') got no usable value
        // from the store: a miss, counted once it is known that the loaded value, not the stale one, answered.
        if (stale !== undefined) this.#miss(key, trace);
        return value;
      },
      (error: unknown) => {
        if (stale === undefined || CacheError.is(error, 'CLOSED')) throw error;
        return this.#ifStillValid(
          stale,
          () => {
            s.emitter.report({ type: 'fail-safe', key: key.canonical, error: error as CacheError });
            return this.#staleServed(key, stale.data, 'fail-safe', trace);
          },
          error,
        );
      },
    );
  }

  /**
   * `serve()` when `stale` may still stand in for a loader, else rejects with `error`: a tagged stale value read
   * before the loader started is vetted again, since one of its tags may have been invalidated meanwhile.
   */
  #ifStillValid<T>(stale: CacheValue<T>, serve: () => T, error: unknown): T | Promise<T> {
    if (!(stale instanceof TaggedValue)) return serve();
    const verdict = this.#shared.tags.verdict(stale.tags, stale.at);
    const decide = (v: string): T => {
      if (v === 'deleted') throw error;
      return serve();
    };
    return isPromiseLike(verdict) ? Promise.resolve(verdict).then(decide) : decide(verdict);
  }

  #waitedTooLong<T>(
    key: CacheKey,
    flight: Flight<T>,
    stale: CacheValue<T> | undefined,
    reason: StaleReason,
    options: ResolvedGetOrSetOptions,
    trace: OperationContext | undefined,
  ): T {
    const s = this.#shared;
    if (stale !== undefined) {
      if (reason === 'soft-timeout' && !flight.softTimedOut) {
        flight.softTimedOut = true;
        s.counters.softTimeouts++;
        if (s.emitter.active) s.emitter.emit({ type: 'loader-timeout', key: key.canonical, kind: 'soft' });
      }
      return this.#staleServed(key, stale.data, reason, trace);
    }
    throw new CacheError(
      'LOCK_TIMEOUT',
      `waited ${options.lockTimeoutMs} ms for another caller's loader of ${key.canonical}, and no stale value is kept`,
      { key: key.canonical, operation: 'load' },
    );
  }

  /** Runs the loader of `key`, stores its result and keeps the in-flight map exact on every exit path. */
  #start<T>(
    key: CacheKey,
    loader: Loader<T>,
    options: ResolvedGetOrSetOptions,
    stale: CacheValue<T> | undefined,
    background: boolean,
  ): Flight<T> {
    const s = this.#shared;
    s.counters.loads++;
    if (s.emitter.active) s.emitter.emit({ type: 'load', key: key.canonical, background });
    const started = s.now();
    /** When the loader's data is read: what a tag invalidation is compared with. */
    const at = s.tags.stamp();
    const onLate = options.keepLateResult
      ? (value: T) => {
          if (!flight.superseded && !flight.skipped && !s.closed && !s.flights.has(key.canonical)) {
            const writing = this.#write(key, value, flight.lifetime, options, at, flight.lease);
            if (writing !== undefined) s.track(writing);
          }
        }
      : undefined;
    const flight: Flight<T> = startLoad(
      this.#keys.prefix,
      key.canonical,
      background,
      () => new Flight(key, loader, stale?.data, options.hardTimeoutMs, onLate, s.locks),
    );
    s.flights.set(key.canonical, flight as Flight<unknown>);
    s.runs.set(flight as Flight<unknown>, { at, tags: options.tags });
    const end = (): void => {
      if (s.flights.get(key.canonical) === flight) s.flights.delete(key.canonical);
      if (background) s.refreshing--;
      flight.release(); // the lease across processes, if any: after the write, on every exit path
    };
    const settled = flight.promise.then(
      (value) => {
        if (s.emitter.active) {
          s.emitter.emit({ type: 'loaded', key: key.canonical, background, ms: s.now() - started });
        }
        if (flight.skipped || flight.superseded) return end();
        const writing = this.#write(key, value, flight.lifetime, options, at, flight.lease);
        if (writing === undefined) return end();
        flight.loaded = true;
        flight.loadedAt = s.now();
        flight.value = value;
        flight.writing = writing;
        return writing.then(end);
      },
      (error: CacheError) => {
        end();
        if (error.code === 'CLOSED') return; // close() ended the run: nothing failed
        if (error.code === 'LOADER_TIMEOUT') {
          s.counters.hardTimeouts++;
          if (s.emitter.active) s.emitter.emit({ type: 'loader-timeout', key: key.canonical, kind: 'hard' });
        } else {
          s.counters.loaderErrors++;
        }
        if (stale !== undefined) s.backOff(key, options.failSafeBackoffMs);
        const event = { type: 'loader-error', key: key.canonical, background, error } as const;
        // A foreground caller receives the error (or a fail-safe event); a background one only has us.
        if (background) s.emitter.report(event);
        else if (s.emitter.active) s.emitter.emit(event);
      },
    );
    s.track(settled);
    return flight;
  }

  /**
   * Stores a loaded value; a failure is reported, never thrown (the callers already have their value).
   * Returns `undefined` when the store answered synchronously (a memory tier), else the write under way.
   */
  #write<T>(
    key: CacheKey,
    value: T,
    chosen: LifetimeOptions | undefined,
    options: ResolvedGetOrSetOptions,
    at: number,
    lease?: Lease,
  ): Promise<void> | undefined {
    const s = this.#shared;
    let pending: Awaitable<void>;
    let tags: readonly string[] | undefined;
    try {
      const lifetime = chosen === undefined ? options : checkLifetime(chosen, options);
      tags = lifetime.tags;
      const entry = s.entry(value, lifetime);
      // A tagged value records when its data was read (the loader's start): an invalidation after that wins.
      const stored: CacheValue<unknown> = tags === undefined ? entry : s.tags.wrap(entry, tags, at);
      // Under a lease across processes (`locks`), a store that fences writes checks it in the write itself; the
      // write is the run's last act under it (released right after), so that store may release it in the same step.
      pending = s.store.set(key, lease === undefined ? stored : new LeasedValue(stored, lease, true));
    } catch (error) {
      s.storeError(key, 'set', error);
      s.keepForOutage(key, value, tags, at);
      return undefined;
    }
    if (!isPromiseLike(pending)) return undefined;
    return Promise.resolve(pending).catch((error: unknown) => {
      s.storeError(key, 'set', error);
      s.keepForOutage(key, value, tags, at);
    });
  }
}

/** `promise`, or {@link WAITED_TOO_LONG} when `ms` pass first. */
function raceLimit<T>(promise: Promise<T>, ms: number): Promise<T | typeof WAITED_TOO_LONG> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(WAITED_TOO_LONG), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** The cache `createCache` made over each Shared: the one observers read counters from (see `observeCache`). */
const roots = new WeakMap<Shared, Cache>();

/**
 * Makes a {@link Cache} over `options.store`. The cache is listed for observers (`observedCaches()` of
 * `@cache/core`, which `@cache/otel` reads its counters through) until it is closed or collected.
 */
export function createCache(options: CacheOptions): Cache {
  checkCacheOptions(options);
  const shared = new Shared(options);
  const keys = new KeyMaker('');
  const cache = new Cache(shared, options.namespace ? keys.child(options.namespace) : keys);
  roots.set(shared, cache);
  observeCache(cache);
  return cache;
}
