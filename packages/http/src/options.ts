import { type CacheBackend, CacheError } from '@cache/core';
import type { KeyExtractor } from './policy/extractors.js';
import { DEFAULT_KEY } from './policy/extractors.js';
import type { RequestPredicate, ResponsePredicate } from './policy/predicates.js';
import type { CacheRequest, ResponseHead } from './policy/request.js';
import type { FreshnessOverride } from './stored-response.js';

/**
 * What a stale response within its stale-while-revalidate window does (hitbox's stale policies):
 * - `revalidate`: it is served at once and revalidated in the background (one run per key);
 * - `inline`: the request waits for the revalidation (the stale response stands in if the origin fails);
 * - `return`: it is served and not revalidated until the window ends.
 */
export type StalePolicy = 'revalidate' | 'inline' | 'return';

/** When a stale response stands in for a failed origin (fail-safe), besides `stale-if-error`. */
export type FailSafe = 'errors' | 'errors-and-5xx' | false;

/** Options of {@link createHttpCache}. */
export interface HttpCacheOptions {
  /** Where responses are stored: any `CacheBackend` (memory, `compose(memory, redis)`, `coherentTiers`). */
  readonly store: CacheBackend;
  /** Key prefix of every stored response. @default 'http' */
  readonly namespace?: string;
  /** This cache's name in `Cache-Status` (RFC 9211). @default 'cache' */
  readonly name?: string;
  /**
   * Which requests the cache handles: others go to the handler untouched (`Cache-Status: …; fwd=bypass`). Only
   * GET and HEAD are ever served from the cache, whatever this says. @default every GET and HEAD request
   */
  readonly request?: RequestPredicate;
  /**
   * Which responses may be stored, on top of RFC 9111 (which always applies: `no-store`, `private`, …).
   * @default 2xx statuses (`statusIn([200, 299])`)
   */
  readonly response?: ResponsePredicate;
  /** How the cache key is made from a request. @default [keyHost(), keyPath(), keyQuery()] */
  readonly key?: readonly KeyExtractor[];
  /**
   * Freshness the application owns, used instead of the origin's `Cache-Control`/`Expires`: a fixed lifetime or
   * a function of the request and response (`undefined`: use the origin's). `no-store` and `private` are still
   * honoured. @default none (the origin's headers decide)
   */
  readonly freshness?:
    | FreshnessOverride
    | ((request: CacheRequest, response: ResponseHead) => FreshnessOverride | undefined);
  /** Handle requests with `Authorization` (stored only when the response allows it, RFC 9111 section 3.5). @default false */
  readonly allowAuthorization?: boolean;
  /** Store responses that set cookies (`Set-Cookie` is then replayed to every client). @default false */
  readonly allowSetCookie?: boolean;
  /** Largest body stored, in bytes; larger ones are streamed through uncached. @default 1048576 (1 MiB) */
  readonly maxBodyBytes?: number;
  /** Most variants (`Vary`) kept per key; the oldest goes first. @default 8 */
  readonly maxVariants?: number;
  /**
   * How long a stale response is kept for revalidation (when it has a validator) and for fail-safe, after its
   * freshness ends. @default 3600000 (one hour)
   */
  readonly keepStaleMs?: number;
  /**
   * Serve a stale response when the origin fails (`'errors'`: the handler threw or could not be reached;
   * `'errors-and-5xx'`: also on 5xx statuses), unless the response forbids it (`must-revalidate`, `no-cache`,
   * `s-maxage`, `proxy-revalidate`). `stale-if-error` always applies within its window. @default 'errors-and-5xx'
   */
  readonly failSafe?: FailSafe;
  /** What a stale response within its stale-while-revalidate window does. @default 'revalidate' */
  readonly stalePolicy?: StalePolicy;
  /** Collapse concurrent identical requests into one handler run (through `@cache/cache` getOrSet). @default true */
  readonly collapse?: boolean;
  /** Heuristic freshness: this fraction of the time since `Last-Modified`. @default 0.1 */
  readonly heuristicFraction?: number;
  /** Upper bound of heuristic freshness, ms. @default 86400000 (one day) */
  readonly maxHeuristicMs?: number;
  /** Targeted cache-control fields honoured before `Cache-Control` (RFC 9213). @default ['cdn-cache-control'] */
  readonly targetedCacheControl?: readonly string[];
  /** Told about store failures (the request goes on as a miss or without storing). @default console.warn, once per 10 s */
  readonly onStoreError?: (error: CacheError) => void;
  /** Clock in Unix milliseconds, for tests. @default Date.now */
  readonly now?: () => number;
}

/** Options with defaults applied. */
export interface ResolvedOptions {
  readonly namespace: string;
  readonly name: string;
  readonly request: RequestPredicate | undefined;
  readonly response: ResponsePredicate;
  readonly key: readonly KeyExtractor[];
  readonly freshness: HttpCacheOptions['freshness'];
  readonly allowAuthorization: boolean;
  readonly allowSetCookie: boolean;
  readonly maxBodyBytes: number;
  readonly maxVariants: number;
  readonly keepStaleMs: number;
  readonly failSafe: FailSafe;
  readonly collapse: boolean;
  readonly stalePolicy: StalePolicy;
  readonly heuristicFraction: number;
  readonly maxHeuristicMs: number;
  readonly targetedCacheControl: readonly string[];
  readonly now: () => number;
}

function invalid(message: string): CacheError {
  return new CacheError('INVALID_OPTIONS', `createHttpCache: ${message}`);
}

function count(value: unknown, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw invalid(`${name} must be a finite number ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/** Checks the options and applies the defaults. */
export function resolveOptions(options: HttpCacheOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw invalid('options are required');
  const store = options.store as Partial<CacheBackend> | undefined;
  if (store === undefined || typeof store.get !== 'function' || typeof store.set !== 'function') {
    throw invalid('store must be a CacheBackend');
  }
  for (const name of ['request', 'response'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function')
      throw invalid(`${name} must be a function`);
  }
  if (
    options.key !== undefined &&
    (!Array.isArray(options.key) || options.key.some((k) => typeof k !== 'function'))
  ) {
    throw invalid('key must be an array of key extractors');
  }
  const failSafe = options.failSafe ?? 'errors-and-5xx';
  if (failSafe !== false && failSafe !== 'errors' && failSafe !== 'errors-and-5xx') {
    throw invalid(`failSafe must be 'errors', 'errors-and-5xx' or false`);
  }
  const stalePolicy = options.stalePolicy ?? 'revalidate';
  if (stalePolicy !== 'revalidate' && stalePolicy !== 'inline' && stalePolicy !== 'return') {
    throw invalid(`stalePolicy must be 'revalidate', 'inline' or 'return'`);
  }
  const f = options.freshness;
  if (f !== undefined && typeof f !== 'function') {
    count(f.ttlMs, 'freshness.ttlMs', 0);
    count(f.staleWhileRevalidateMs, 'freshness.staleWhileRevalidateMs', 0);
    count(f.staleIfErrorMs, 'freshness.staleIfErrorMs', 0);
  }
  if (options.namespace !== undefined && typeof options.namespace !== 'string')
    throw invalid('namespace must be a string');
  const name = options.name ?? 'cache';
  if (typeof name !== 'string' || name === '' || /[\r\n]/.test(name))
    throw invalid('name must be a non-empty string');
  return {
    namespace: options.namespace ?? 'http',
    name,
    request: options.request,
    response: options.response ?? ((response) => response.status >= 200 && response.status <= 299),
    key: options.key ?? DEFAULT_KEY,
    freshness: f,
    allowAuthorization: options.allowAuthorization === true,
    allowSetCookie: options.allowSetCookie === true,
    maxBodyBytes: count(options.maxBodyBytes, 'maxBodyBytes', 1_048_576),
    maxVariants: count(options.maxVariants, 'maxVariants', 8, 1),
    keepStaleMs: count(options.keepStaleMs, 'keepStaleMs', 3_600_000),
    failSafe,
    collapse: options.collapse !== false,
    stalePolicy,
    heuristicFraction: count(options.heuristicFraction, 'heuristicFraction', 0.1),
    maxHeuristicMs: count(options.maxHeuristicMs, 'maxHeuristicMs', 86_400_000),
    targetedCacheControl: (options.targetedCacheControl ?? ['cdn-cache-control']).map((s) => s.toLowerCase()),
    now: options.now ?? Date.now,
  };
}
