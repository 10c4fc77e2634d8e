import { type BackendLabel, type CacheKey, CacheError, type CacheValue } from '@cache/core';

/**
 * Options of {@link memoryBackend}. At least one bound, `maxEntries` or `maxBytes`, is required: an unbounded
 * in-process cache is a memory leak waiting for traffic.
 */
export interface MemoryBackendOptions {
  /** Largest number of entries held at once. Required unless `maxBytes` is given. */
  readonly maxEntries?: number;
  /**
   * Largest total size of the entries held at once, as measured by `sizeOf`. An entry larger than this on
   * its own is never stored. Required unless `maxEntries` is given.
   */
  readonly maxBytes?: number;
  /**
   * Size of one entry in bytes, for `maxBytes`. It is called once per `set`, so keep it cheap; it must return a
   * finite number ≥ 0. Only allowed together with `maxBytes`.
   * @default defaultSizeOf (an estimate: see its documentation)
   */
  readonly sizeOf?: (value: CacheValue<unknown>, key: CacheKey) => number;
  /**
   * Copy data with `structuredClone` on the way in and on the way out, for callers that mutate what they
   * cache or what they read. Without it the cache holds and returns the very objects it was given.
   * @default false
   */
  readonly clone?: boolean;
  /**
   * Name in reports, errors and `ReadInfo.source`.
   * @default "memory"
   */
  readonly label?: BackendLabel;
  /**
   * Clock in Unix milliseconds, for tests. It is called only when an entry has an expiry.
   * @default Date.now
   */
  readonly now?: () => number;
}

/** Options after validation, with defaults applied (`Infinity` for an absent bound). */
export interface ResolvedOptions {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly sizeOf: ((value: CacheValue<unknown>, key: CacheKey) => number) | undefined;
  readonly clone: boolean;
  readonly label: BackendLabel;
  readonly now: () => number;
}

function invalid(message: string): CacheError {
  return new CacheError('INVALID_OPTIONS', `memoryBackend: ${message}`);
}

function bound(value: unknown, name: string): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalid(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** Checks the options and applies defaults. Throws `INVALID_OPTIONS` with a message naming the bad option. */
export function resolveOptions(options: MemoryBackendOptions | undefined): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalid('options are required: pass { maxEntries } or { maxBytes }');
  }
  if (options.maxEntries === undefined && options.maxBytes === undefined) {
    throw invalid('a bound is required: pass maxEntries, maxBytes or both');
  }
  const maxEntries = bound(options.maxEntries, 'maxEntries');
  const maxBytes = bound(options.maxBytes, 'maxBytes');
  const { sizeOf, clone = false, label = 'memory', now = Date.now } = options;
  if (sizeOf !== undefined) {
    if (typeof sizeOf !== 'function') throw invalid('sizeOf must be a function');
    if (options.maxBytes === undefined) throw invalid('sizeOf has no effect without maxBytes');
  }
  if (typeof clone !== 'boolean') throw invalid('clone must be a boolean');
  if (typeof label !== 'string' || label === '') throw invalid('label must be a non-empty string');
  if (typeof now !== 'function') throw invalid('now must be a function returning Unix milliseconds');
  return { maxEntries, maxBytes, sizeOf, clone, label, now };
}
