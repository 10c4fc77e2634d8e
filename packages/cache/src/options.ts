import { type CacheBackend, CacheError } from '@cache/core';
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

/** Lifetimes of a stored value, in milliseconds. */
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
  };
}

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
  for (const name of ['waitUntil', 'onEvent', 'now'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw invalid(`createCache: ${name} must be a function`);
    }
  }
}
