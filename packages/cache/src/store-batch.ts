import {
  type Awaitable,
  type BatchRead,
  type BatchWrite,
  type CacheBackend,
  CacheError,
  type CacheKey,
  type CacheValue,
  deleteMany,
  getMany,
  isPromiseLike,
  type ReadInfo,
  setMany,
} from '@cache/core';

/**
 * Batch access to the store through core's helpers: the store's own `getMany` / `setMany` / `deleteMany` when it
 * has them, else one single operation per key, all started at once. One position per key, holding the result or
 * the `CacheError` of that key: a failed key never hides the others, and nothing rejects.
 */

/** Reads `keys` (synchronously when the store answers synchronously). */
export function readMany<T>(
  store: CacheBackend,
  keys: readonly CacheKey[],
  infos?: readonly ReadInfo[],
): Awaitable<BatchRead<T>[]> {
  return getMany<T>(store, keys, infos);
}

/** Writes `entries`; each position is `undefined` when stored, else its error. */
export function writeMany<T>(
  store: CacheBackend,
  entries: readonly { key: CacheKey; value: CacheValue<T> }[],
): Promise<BatchWrite[]> {
  return Promise.resolve(setMany(store, entries));
}

/** Deletes `keys`; each position is true when an entry was removed, false when there was none, or its error. */
export function removeMany(
  store: CacheBackend,
  keys: readonly CacheKey[],
): Promise<(boolean | CacheError)[]> {
  const answer = deleteMany(store, keys);
  const removed = (statuses: readonly unknown[]) =>
    statuses.map((status) =>
      CacheError.is(status) ? status : (status as { kind: string }).kind === 'deleted',
    );
  return isPromiseLike(answer) ? Promise.resolve(answer).then(removed) : Promise.resolve(removed(answer));
}
