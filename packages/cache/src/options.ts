import { type CacheBackend, CacheError, type LockStore } from '@cache/core';
import type { CacheEvent } from './events.js';

/**
 * What `getOrSet` does with a stale value (past `ttlMs`, within `graceMs`), after hitbox's three policies:
 * - `revalidate`: return the stale value at once and refresh it in the background (one refresh per key at a
 *   time, shared with foreground loaders);
 * - `inline`: run the loader and wait for it; the stale value is the fallback when it fails or passes
 *   `softTimeoutMs`;
 * - `return`: return the stale value and never refresh it: it is served until it expires.
 */
export type StalePolicy = 'revalidate' | 'inline' | 'return';

/** What `get` does when the store fails: report it and answer a miss, or reject. */
export type StoreErrorPolicy = 'report' | 'throw';

/**
 * How a value is stored: its lifetimes in milliseconds, and its tags. Given to `set`, `getOrSet` and a loader's
 * `ctx.setOptions`.
 */
export interface LifetimeOptions {
  /**
   * How long a value is fresh. `Infinity` stores it without stale or expire instants (kept until deleted or
   * evicted). @default 60000
   */
  readonly ttlMs?: number;
  /**
   * How long after `ttlMs` the value is still kept and may be served stale (stale-while-revalidate, fail-safe,
   * soft timeouts). The stored entry turns stale at `now + ttlMs` and expires at `now + ttlMs + graceMs`.
   * @default 0
   */
  readonly graceMs?: number;
  /**
   * Tags of the value: `cache.invalidateTags(['user:42'])` then stops every process sharing the store from
   * serving it, as fresh, stale or fail-safe value (see `docs/tags-and-batch.md`). Untagged values cost nothing.
   * A tagged value lives at most `maxTaggedLifetimeMs`. @default undefined (no tags)
   */
  readonly tags?: readonly string[] | undefined;
}

/** Options of one `getOrSet` call; every one defaults to the cache's own. */
export interface GetOrSetOptions extends LifetimeOptions {
  /** What to do with a stale value. @default 'revalidate' */
  readonly stalePolicy?: StalePolicy;
  /**
   * With a stale value at hand, how long a caller waits for the loader before taking the stale value; the
   * loader goes on in the background and its result is stored. No effect without a stale value.
   * @default undefined (wait for the loader)
   */
  readonly softTimeoutMs?: number;
  /**
   * How long the loader may run at all: then its `ctx.signal` is aborted and callers get the stale value
   * (fail-safe) or a `LOADER_TIMEOUT` error. Its late result is dropped unless `keepLateResult`.
   * @default undefined (no limit)
   */
  readonly hardTimeoutMs?: number;
  /** Store a loader's result that arrives after `hardTimeoutMs`. @default false */
  readonly keepLateResult?: boolean;
  /**
   * How long a caller waits for another caller's loader of the same key before taking the stale value, or
   * failing with `LOCK_TIMEOUT` when there is none. @default undefined (as long as the loader runs)
   */
  readonly lockTimeoutMs?: number;
  /**
   * After a loader failed or timed out while a stale value existed, how long that stale value is served
   * without calling the loader again. @default 10000
   */
  readonly failSafeBackoffMs?: number;
}

/** Options of `get`. */
export interface GetOptions {
  /** Return a stale value (past `ttlMs`, within `graceMs`) instead of a miss. @default false */
  readonly allowStale?: boolean;
}

/** Options of {@link createCache}. Every `getOrSet` option given here is the default of every call. */
export interface CacheOptions extends GetOrSetOptions {
  /** Where values live: any `CacheBackend` (memory, Redis, a composition, `coherentTiers`). */
  readonly store: CacheBackend;
  /**
   * Prefix of every key of this cache, e.g. `"app"`: keys get the `CacheKey` prefix `"app:"`. Child caches
   * made with `cache.namespace("users")` use `"app:users:"`. @default '' (no prefix)
   */
  readonly namespace?: string;
  /** What `get` does when the store fails. `getOrSet` always fails open. @default 'report' */
  readonly onStoreError?: StoreErrorPolicy;
  /**
   * Largest number of background refreshes running at once; a stale hit past it is served without starting
   * one (counted in `stats().refreshesSkipped`). @default 32
   */
  readonly maxBackgroundRefreshes?: number;
  /**
   * Hands every background task (refreshes, writes after a load) to the platform, e.g. a serverless
   * runtime's `ctx.waitUntil`, so it is not frozen before the work is done.
   */
  readonly waitUntil?: (work: Promise<unknown>) => void;
  /**
   * Called with every event (hits, misses, loads, errors; see {@link CacheEvent}). Same as `cache.on`.
   * When nothing listens to errors, they are written to `console.warn` (at most one line per kind per 10 s).
   */
  readonly onEvent?: (event: CacheEvent) => void;
  /**
   * While the store fails, how long a value this process loaded but could not store is served from the
   * cache's own memory, so a sick store costs one loader call per key per `fallbackTtlMs` instead of one per
   * request. It also bounds how long a value just loaded is served from memory while its write is still under
   * way. Keep it within your coherence bound (`coherentTiers`' `maxStalenessMs`, 3000 ms by default); 0 turns
   * both off (callers arriving during a write then read the store, and may load again). @default 1000
   */
  readonly fallbackTtlMs?: number;
  /** Clock in Unix milliseconds, for tests. @default Date.now */
  readonly now?: () => number;
  /**
   * Locks shared by every process that uses the same store (`redisLocks()` of `@cache/redis`): then one process
   * at a time runs the loader of a key, the others wait for its value to land in the store (see `docs/locks.md`).
   * Without it, the loader runs once per key per process. `close()` closes it too.
   */
  readonly locks?: LockStore;
  /**
   * How long this process trusts the invalidation instants of a tag it has read from the store, so a tagged
   * read costs no round trip: another process's `invalidateTags` reaches this one within this bound (plus 50 ms,
   * the age of the clock reading on the hit path, and one read). Under `coherentTiers` the instants are read through its coherent memory tier instead and this bound
   * does not apply (the coherence bound does). `0` reads them on every tagged read. @default 1000
   */
  readonly tagCacheMs?: number;
  /**
   * Longest life of a tagged entry (`ttlMs + graceMs` are cut to it), and how long a tag's invalidation
   * instant is kept in the store: the instant outlives every entry written before it. Every process sharing a
   * store must use the same value. @default 604800000 (7 days)
   */
  readonly maxTaggedLifetimeMs?: number;
}

/** A `getOrSet` call's options with every default applied. */
export interface ResolvedGetOrSetOptions {
  readonly ttlMs: number;
  readonly graceMs: number;
  readonly stalePolicy: StalePolicy;
  readonly softTimeoutMs: number | undefined;
  readonly hardTimeoutMs: number | undefined;
  readonly keepLateResult: boolean;
  readonly lockTimeoutMs: number | undefined;
  readonly failSafeBackoffMs: number;
  readonly tags: readonly string[] | undefined;
}

const STALE_POLICIES: readonly StalePolicy[] = ['revalidate', 'inline', 'return'];

function invalid(message: string): CacheError {
  return new CacheError('INVALID_OPTIONS', message);
}

function duration(value: unknown, name: string, allowInfinity = false): number | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    value < 0 ||
    (!allowInfinity && !Number.isFinite(value))
  ) {
    throw invalid(`${name} must be a ${allowInfinity ? '' : 'finite '}number of milliseconds ≥ 0`);
  }
  return value;
}

/** Checks the lifetime fields of `options` (used by `set` as well). */
export function checkLifetime(options: LifetimeOptions, base: LifetimeOptions): LifetimeOptions {
  return {
    ttlMs: duration(options.ttlMs, 'ttlMs', true) ?? base.ttlMs ?? DEFAULT_TTL_MS,
    graceMs: duration(options.graceMs, 'graceMs') ?? base.graceMs ?? 0,
    tags: checkTags(options.tags) ?? base.tags,
  };
}

/** Most tags one entry may carry. */
export const MAX_TAGS = 64;

/** Checks a tag list: an array of up to {@link MAX_TAGS} non-empty strings; duplicates are dropped. */
export function checkTags(tags: unknown): readonly string[] | undefined {
  if (tags === undefined) return undefined;
  if (!Array.isArray(tags) || tags.length > MAX_TAGS) {
    throw invalid(`tags must be an array of at most ${MAX_TAGS} strings`);
  }
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag === '') throw invalid('every tag must be a non-empty string');
  }
  return tags.length === 0 ? undefined : [...new Set(tags as string[])];
}

/** Default of `tagCacheMs`: one second. */
export const DEFAULT_TAG_CACHE_MS = 1_000;

/** Default of `maxTaggedLifetimeMs`: seven days. */
export const DEFAULT_MAX_TAGGED_LIFETIME_MS = 7 * 24 * 3_600_000;

/** Default of `fallbackTtlMs`: one second. */
export const DEFAULT_FALLBACK_TTL_MS = 1_000;

/** Default freshness: one minute. */
export const DEFAULT_TTL_MS = 60_000;

/** Applies `base` under `options`, validating each field. */
export function resolveGetOrSetOptions(
  options: GetOrSetOptions,
  base: ResolvedGetOrSetOptions,
): ResolvedGetOrSetOptions {
  const stalePolicy = options.stalePolicy ?? base.stalePolicy;
  if (!STALE_POLICIES.includes(stalePolicy)) {
    throw invalid(
      `stalePolicy must be one of ${STALE_POLICIES.map((p) => `"${p}"`).join(', ')}, got ${String(stalePolicy)}`,
    );
  }
  const keepLateResult = options.keepLateResult ?? base.keepLateResult;
  if (typeof keepLateResult !== 'boolean') throw invalid('keepLateResult must be a boolean');
  return {
    ttlMs: duration(options.ttlMs, 'ttlMs', true) ?? base.ttlMs,
    graceMs: duration(options.graceMs, 'graceMs') ?? base.graceMs,
    stalePolicy,
    softTimeoutMs: duration(options.softTimeoutMs, 'softTimeoutMs') ?? base.softTimeoutMs,
    hardTimeoutMs: duration(options.hardTimeoutMs, 'hardTimeoutMs') ?? base.hardTimeoutMs,
    keepLateResult,
    lockTimeoutMs: duration(options.lockTimeoutMs, 'lockTimeoutMs') ?? base.lockTimeoutMs,
    failSafeBackoffMs: duration(options.failSafeBackoffMs, 'failSafeBackoffMs') ?? base.failSafeBackoffMs,
    tags: checkTags(options.tags) ?? base.tags,
  };
}

/** The defaults every call starts from. */
export const DEFAULTS: ResolvedGetOrSetOptions = Object.freeze({
  ttlMs: DEFAULT_TTL_MS,
  graceMs: 0,
  stalePolicy: 'revalidate',
  softTimeoutMs: undefined,
  hardTimeoutMs: undefined,
  keepLateResult: false,
  lockTimeoutMs: undefined,
  failSafeBackoffMs: 10_000,
  tags: undefined,
});

/** Validates the cache-level options that are not per call. */
export function checkCacheOptions(options: CacheOptions): void {
  if (options === null || typeof options !== 'object') throw invalid('createCache needs an options object');
  const store = options.store as Partial<CacheBackend> | undefined;
  if (
    store === undefined ||
    typeof store.get !== 'function' ||
    typeof store.set !== 'function' ||
    typeof store.delete !== 'function'
  ) {
    throw invalid('createCache: store must be a CacheBackend (get, set and delete)');
  }
  if (options.namespace !== undefined && typeof options.namespace !== 'string') {
    throw invalid('createCache: namespace must be a string');
  }
  if (options.onStoreError !== undefined && !['report', 'throw'].includes(options.onStoreError)) {
    throw invalid('createCache: onStoreError must be "report" or "throw"');
  }
  const max = options.maxBackgroundRefreshes;
  if (max !== undefined && (!Number.isInteger(max) || max < 0)) {
    throw invalid('createCache: maxBackgroundRefreshes must be an integer ≥ 0');
  }
  duration(options.fallbackTtlMs, 'createCache: fallbackTtlMs');
  duration(options.tagCacheMs, 'createCache: tagCacheMs');
  if (duration(options.maxTaggedLifetimeMs, 'createCache: maxTaggedLifetimeMs') === 0) {
    throw invalid('createCache: maxTaggedLifetimeMs must be > 0');
  }
  const locks = options.locks as Partial<LockStore> | undefined;
  if (
    locks !== undefined &&
    (locks === null ||
      typeof locks.acquire !== 'function' ||
      typeof locks.renew !== 'function' ||
      typeof locks.release !== 'function' ||
      typeof locks.waitForRelease !== 'function' ||
      !(Number(locks.leaseMs) > 0) ||
      !(Number(locks.pollMs) > 0))
  ) {
    throw invalid(
      'createCache: locks must be a LockStore (acquire, renew, release, waitForRelease, leaseMs, pollMs)',
    );
  }
  for (const name of ['waitUntil', 'onEvent', 'now'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw invalid(`createCache: ${name} must be a function`);
    }
  }
}
