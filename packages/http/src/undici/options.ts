/// <reference types="node" />
import process from 'node:process';
import { type CacheBackend, CacheError } from '@cache/core';

/** Options of {@link undiciCacheStore}. */
export interface UndiciCacheStoreOptions {
  /**
   * Where responses are kept: any `CacheBackend` (memory, Redis, a composition of both, `coherentTiers`). Its
   * value format must carry `Uint8Array` bodies as bytes, as `cbor` (the Redis default) does; `json` does not.
   */
  readonly backend: CacheBackend;
  /**
   * `CacheKey.prefix` of every entry, so several stores can share one backend.
   * @default "undici"
   */
  readonly keyPrefix?: string;
  /**
   * Largest response body stored, in bytes. A larger one is passed through to the caller but not stored.
   * @default 5242880 (5 MiB)
   */
  readonly maxBodyBytes?: number;
  /**
   * Largest number of variants (same URL, another method or other values of the headers named by `Vary`) kept
   * per URL; beyond it the oldest are dropped.
   * @default 16
   */
  readonly maxVariants?: number;
  /**
   * Called with every failure the store turns into a miss or a skipped write, so undici's request goes on: a
   * backend that is down, an entry that is not ours (`CORRUPT_ENTRY`, `DESERIALIZE`). Must not throw.
   * @default a process warning, once per error code
   */
  readonly onError?: (error: CacheError) => void;
  /**
   * Clock in Unix milliseconds, for tests.
   * @default Date.now
   */
  readonly now?: () => number;
}

/** The options after validation, defaults applied. */
export interface ResolvedUndiciCacheStoreOptions {
  readonly backend: CacheBackend;
  readonly keyPrefix: string;
  readonly maxBodyBytes: number;
  readonly maxVariants: number;
  readonly onError: (error: CacheError) => void;
  readonly now: () => number;
}

/** Defaults of {@link UndiciCacheStoreOptions}. */
export const UNDICI_CACHE_STORE_DEFAULTS: {
  readonly keyPrefix: 'undici';
  readonly maxBodyBytes: number;
  readonly maxVariants: number;
} = Object.freeze({ keyPrefix: 'undici', maxBodyBytes: 5 * 1024 * 1024, maxVariants: 16 });

function invalid(message: string): CacheError {
  return new CacheError('INVALID_OPTIONS', `undiciCacheStore: ${message}`);
}

function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalid(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** One process warning per error code: a sick store is visible without flooding the log. */
function warnOncePerCode(): (error: CacheError) => void {
  const seen = new Set<string>();
  return (error) => {
    if (seen.has(error.code)) return;
    seen.add(error.code);
    process.emitWarning(`${error.message} (further ${error.code} errors are not reported)`, {
      type: 'CacheWarning',
      code: error.code,
    });
  };
}

/** Checks the options and applies defaults. Throws `INVALID_OPTIONS` naming the bad option. */
export function resolveUndiciCacheStoreOptions(
  options: UndiciCacheStoreOptions,
): ResolvedUndiciCacheStoreOptions {
  if (typeof options !== 'object' || options === null)
    throw invalid('options are required: pass { backend }');
  const { backend, keyPrefix = UNDICI_CACHE_STORE_DEFAULTS.keyPrefix, onError, now = Date.now } = options;
  if (
    typeof backend !== 'object' ||
    backend === null ||
    typeof backend.get !== 'function' ||
    typeof backend.set !== 'function' ||
    typeof backend.delete !== 'function'
  ) {
    throw invalid('backend must be a CacheBackend');
  }
  if (typeof keyPrefix !== 'string') throw invalid('keyPrefix must be a string');
  if (onError !== undefined && typeof onError !== 'function') throw invalid('onError must be a function');
  if (typeof now !== 'function') throw invalid('now must be a function returning Unix milliseconds');
  return {
    backend,
    keyPrefix,
    maxBodyBytes: positiveInteger(
      options.maxBodyBytes,
      'maxBodyBytes',
      UNDICI_CACHE_STORE_DEFAULTS.maxBodyBytes,
    ),
    maxVariants: positiveInteger(options.maxVariants, 'maxVariants', UNDICI_CACHE_STORE_DEFAULTS.maxVariants),
    onError: onError ?? warnOncePerCode(),
    now,
  };
}
