import {
  type Awaitable,
  CacheError,
  type CacheKey,
  type CacheValue,
  isPromiseLike,
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
  resolveGetOrSetOptions,
} from './options.js';
import { asCacheError, Shared } from './shared.js';
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
  /** The ReadInfo lent to synchronous reads (see `getOrSet`). */
  #info: ReadInfo = {};

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
      const value = s.entry(data, checkLifetime(options, s.defaults));
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
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────────────────
  // `trace` is the context of a traced call (someone listens on `cache:operation`), else `undefined`.

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
    if (isPromiseLike(read)) {
      return Promise.resolve(read).then(
        (value) => this.#answerGet(key, value, info, options, trace),
        (error: unknown) => this.#getFailed<T>(key, error, trace),
      );
    }
    return Promise.resolve(this.#answerGet(key, read, info, options, trace));
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
    // One ReadInfo serves every synchronous read (a memory hit allocates nothing for it); a read that answers
    // with a promise keeps the object it was given, and later reads get a new one.
    const info = this.#info;
    let read: CacheValue<T> | undefined | PromiseLike<CacheValue<T> | undefined>;
    try {
      read = s.store.get<T>(key, info);
    } catch (error) {
      this.#info = {};
      return this.#afterRead(key, undefined, error, info, load, options, trace);
    }
    if (isPromiseLike(read)) {
      this.#info = {};
      return Promise.resolve(read).then(
        (value) => this.#afterRead(key, value, undefined, info, load, options, trace),
        (error: unknown) => this.#afterRead<T>(key, undefined, error, info, load, options, trace),
      );
    }
    const source = info.source;
    (info as { source?: string | undefined }).source = undefined;
    if (read !== undefined && isFresh(read, s.now)) {
      return Promise.resolve(this.#hit(key, read.data, source, trace));
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
  ): Promise<T> {
    const s = this.#shared;
    if (error !== undefined) {
      const kept = this.#readFailed<T>(key, error, trace);
      if (kept !== undefined) return kept;
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
  ): Promise<T> {
    const s = this.#shared;
    let flight = s.flights.get(key.canonical) as Flight<T> | undefined;
    const leader = flight === undefined;
    if (flight === undefined) {
      flight = this.#start(key, loader, options, stale, false);
    } else {
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
        if (value === WAITED_TOO_LONG)
          return this.#waitedTooLong(key, current, stale, reason, options, trace);
        // A caller that had a stale value and waited for the loader (stalePolicy 'inline') got no usable value
        // from the store: a miss, counted once it is known that the loaded value, not the stale one, answered.
        if (stale !== undefined) this.#miss(key, trace);
        return value;
      },
      (error: unknown) => {
        if (stale === undefined || CacheError.is(error, 'CLOSED')) throw error;
        s.emitter.report({ type: 'fail-safe', key: key.canonical, error: error as CacheError });
        return this.#staleServed(key, stale.data, 'fail-safe', trace);
      },
    );
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
    const onLate = options.keepLateResult
      ? (value: T) => {
          if (!flight.superseded && !flight.skipped && !s.closed && !s.flights.has(key.canonical)) {
            const writing = this.#write(key, value, flight.lifetime, options);
            if (writing !== undefined) s.track(writing);
          }
        }
      : undefined;
    const flight: Flight<T> = startLoad(
      this.#keys.prefix,
      key.canonical,
      background,
      () => new Flight(key, loader, stale?.data, options.hardTimeoutMs, onLate),
    );
    s.flights.set(key.canonical, flight as Flight<unknown>);
    const end = (): void => {
      if (s.flights.get(key.canonical) === flight) s.flights.delete(key.canonical);
      if (background) s.refreshing--;
    };
    const settled = flight.promise.then(
      (value) => {
        if (s.emitter.active) {
          s.emitter.emit({ type: 'loaded', key: key.canonical, background, ms: s.now() - started });
        }
        if (flight.skipped || flight.superseded) return end();
        const writing = this.#write(key, value, flight.lifetime, options);
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
  ): Promise<void> | undefined {
    const s = this.#shared;
    let pending: Awaitable<void>;
    try {
      const entry = s.entry(value, chosen === undefined ? options : checkLifetime(chosen, options));
      pending = s.store.set(key, entry);
    } catch (error) {
      s.storeError(key, 'set', error);
      s.keepForOutage(key, value);
      return undefined;
    }
    if (!isPromiseLike(pending)) return undefined;
    return Promise.resolve(pending).catch((error: unknown) => {
      s.storeError(key, 'set', error);
      s.keepForOutage(key, value);
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
