import { type Cache, createCache } from '@cache/cache';
import { type CacheBackend, DeleteStatus } from '@cache/core';

/**
 * A store that keeps nothing: the flights cache only needs `getOrSet`'s one-loader-per-key, never a stored value,
 * so a read costs nothing and no entry outlives its load.
 */
const nowhere: CacheBackend = {
  label: 'in-flight',
  get: () => undefined,
  set: () => undefined,
  delete: () => DeleteStatus.missing,
};

/** The cache whose `getOrSet` collapses concurrent origin calls of one key (every loader calls `ctx.skip()`). */
export function createFlights(now: () => number): Cache {
  return createCache({ store: nowhere, namespace: 'flights', now, fallbackTtlMs: 0 });
}
