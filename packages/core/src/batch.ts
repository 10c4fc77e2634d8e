import { type Awaitable, isPromiseLike } from './awaitable.js';
import type { CacheBackend, ReadInfo } from './backend.js';
import type { CacheKey } from './cache-key.js';
import type { CacheValue } from './cache-value.js';
import { DeleteStatus } from './delete-status.js';
import { CacheError, type CacheOperation } from './errors.js';

/**
 * What one position of a batch read holds: what `get` of that key would have given. The value on a hit,
 * `undefined` on a miss, or the `CacheError` that `get` would have rejected with (an entry that cannot be
 * decoded, a store that failed). A failed position never hides the others: read errors are per key.
 */
export type BatchRead<T> = CacheValue<T> | undefined | CacheError;

/**
 * What one position of a batch write holds: `undefined` when that entry was stored (or, already expired,
 * removed), else the `CacheError` that `set` would have rejected with.
 */
export type BatchWrite = CacheError | undefined;

/** What one position of a batch delete holds: the `DeleteStatus` `delete` would have given, or its error. */
export type BatchDelete = DeleteStatus | CacheError;

/** One entry of a batch write. */
export interface BatchEntry<T = unknown> {
  /** Where the value goes. */
  readonly key: CacheKey;
  /** The value, expire and stale included. */
  readonly value: CacheValue<T>;
}

/** The error a position holds: a CacheError as it is, anything else wrapped with code `BACKEND`. */
export function batchError(
  error: unknown,
  backend: string,
  operation: CacheOperation,
  key: CacheKey | undefined,
): CacheError {
  const details = key === undefined ? { backend, operation } : { backend, operation, key: key.canonical };
  return CacheError.wrap(error, 'BACKEND', `${operation} failed in "${backend}"`, details);
}

/**
 * The first retryable failure of a batch result (`CONNECTION`, `TIMEOUT`, ...): the store itself failed for
 * those keys. A circuit breaker counts a batch with one as a failed call.
 */
export function retryableFailureOf(results: readonly unknown[]): CacheError | undefined {
  for (const result of results) {
    if (CacheError.is(result) && result.retryable) return result;
  }
  return undefined;
}

/** Positions of `keys` grouped by canonical key, in first-seen order. */
export function distinctKeys(keys: readonly CacheKey[]): {
  keys: CacheKey[];
  /** For each position of the input, the index of its key in `keys`. */
  slots: number[];
} {
  const index = new Map<string, number>();
  const distinct: CacheKey[] = [];
  const slots = new Array<number>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as CacheKey;
    // Something that is not a key stays a position of its own, so that its operation fails there alone.
    const canonical = (key as CacheKey | undefined)?.canonical;
    let at = typeof canonical === 'string' ? index.get(canonical) : undefined;
    if (at === undefined) {
      at = distinct.length;
      if (typeof canonical === 'string') index.set(canonical, at);
      distinct.push(key);
    }
    slots[i] = at;
  }
  return { keys: distinct, slots };
}

/** The last entry of each distinct key, and for each position of the input the index of its key's entry. */
export function lastEntries<T>(entries: readonly BatchEntry<T>[]): {
  last: BatchEntry<T>[];
  slots: number[];
} {
  const { keys, slots } = distinctKeys(entries.map((entry) => entry.key));
  const last = new Array<BatchEntry<T>>(keys.length);
  for (let i = 0; i < entries.length; i++) last[slots[i] as number] = entries[i] as BatchEntry<T>;
  return { last, slots };
}

function checkList(list: unknown, what: string, backend: string, operation: CacheOperation): void {
  if (!Array.isArray(list)) {
    throw new CacheError('INVALID_OPTIONS', `${operation}Many: ${what} must be an array`, {
      backend,
      operation,
    });
  }
}

/**
 * Throws `INVALID_OPTIONS` unless `keys` is an array of keys (objects with a `canonical` string, as `CacheKey`s
 * have): a malformed batch is a mistake in the calling code, not a failure of one key.
 */
export function checkKeys(keys: unknown, backend: string, operation: 'get' | 'delete'): void {
  checkList(keys, 'keys', backend, operation);
  for (const key of keys as unknown[]) {
    if (typeof (key as { canonical?: unknown } | null | undefined)?.canonical !== 'string') {
      throw new CacheError('INVALID_OPTIONS', `${operation}Many: every key must be a CacheKey`, {
        backend,
        operation,
      });
    }
  }
}

/**
 * Throws `INVALID_OPTIONS` unless `entries` is an array of `{ key, value }` objects: a malformed batch is a
 * mistake in the calling code, not a failure of one entry.
 */
export function checkEntries(entries: unknown, backend: string): void {
  checkList(entries, 'entries', backend, 'set');
  for (const entry of entries as unknown[]) {
    const { key, value } = (entry ?? {}) as { key?: { canonical?: unknown }; value?: unknown };
    if (typeof key?.canonical !== 'string' || typeof value !== 'object' || value === null) {
      throw new CacheError(
        'INVALID_OPTIONS',
        'setMany: every entry must be { key: CacheKey, value: CacheValue }',
        {
          backend,
          operation: 'set',
        },
      );
    }
  }
}

/** Fills every position with `error`, as positions of a call that failed as a whole. */
function everyPosition<R>(count: number, error: CacheError): R[] {
  return new Array<R>(count).fill(error as R);
}

/**
 * Completes an implementation's answer: a rejection or a throw becomes the error in every position, and an
 * answer of the wrong length is a `PROTOCOL` error in every position (the backend broke the contract).
 */
function settleMany<R>(
  run: () => Awaitable<R[]>,
  count: number,
  backend: string,
  operation: CacheOperation,
  keyOf: (i: number) => CacheKey | undefined,
): Awaitable<R[]> {
  const failed = (error: unknown): R[] => {
    const wrapped = batchError(error, backend, operation, count === 1 ? keyOf(0) : undefined);
    return everyPosition<R>(count, wrapped);
  };
  const checked = (results: R[]): R[] => {
    if (Array.isArray(results) && results.length === count) return results;
    return failed(
      new CacheError(
        'PROTOCOL',
        `${operation}Many of "${backend}" answered ${Array.isArray(results) ? results.length : 'no'} positions for ${count} keys`,
      ),
    );
  };
  let result: Awaitable<R[]>;
  try {
    result = run();
  } catch (error) {
    return failed(error);
  }
  return isPromiseLike(result) ? Promise.resolve(result).then(checked, failed) : checked(result);
}

/** Collects per-key answers that may be synchronous: an array when all are, else a promise of one. */
function gather<R>(answers: Awaitable<R>[]): Awaitable<R[]> {
  for (const answer of answers) {
    if (isPromiseLike(answer)) return Promise.all(answers);
  }
  return answers as R[];
}

/** Runs `single` and captures a throw or a rejection as the position's error. */
function attemptOne<R>(
  single: () => Awaitable<R>,
  backend: string,
  operation: CacheOperation,
  key: CacheKey,
): Awaitable<R | CacheError> {
  let result: Awaitable<R>;
  try {
    result = single();
  } catch (error) {
    return batchError(error, backend, operation, key);
  }
  if (!isPromiseLike(result)) return result;
  return Promise.resolve(result).then(
    (value) => value,
    (error: unknown) => batchError(error, backend, operation, key),
  );
}

/**
 * Reads `keys` from `backend`: with its `getMany` when it has one, else with one `get` per distinct key, all
 * started at once. The answer is synchronous when the backend answered synchronously (memory). Each position
 * is a {@link BatchRead}; it never rejects: a malformed batch (`keys` not an array of `CacheKey`s) throws
 * `INVALID_OPTIONS` at once.
 *
 * @example
 * const results = await getMany(backend, [CacheKey.of('user', '1'), CacheKey.of('user', '2')]);
 * for (const result of results) {
 *   if (result instanceof CacheError) console.warn(result.code);
 *   else if (result !== undefined) console.log(result.data);
 * }
 */
export function getMany<T>(
  backend: CacheBackend,
  keys: readonly CacheKey[],
  infos?: readonly ReadInfo[],
): Awaitable<BatchRead<T>[]> {
  checkKeys(keys, backend.label, 'get');
  if (infos !== undefined && (!Array.isArray(infos) || infos.length !== keys.length)) {
    throw new CacheError('INVALID_OPTIONS', 'getMany: infos must have one ReadInfo per key', {
      backend: backend.label,
      operation: 'get',
    });
  }
  if (keys.length === 0) return [];
  if (typeof backend.getMany === 'function') {
    return settleMany<BatchRead<T>>(
      () =>
        (backend.getMany as NonNullable<CacheBackend['getMany']>).call(
          backend,
          keys,
          infos,
        ) as BatchRead<T>[],
      keys.length,
      backend.label,
      'get',
      (i) => keys[i],
    );
  }
  return getEach<T>(backend, keys, infos);
}

/**
 * The fallback of {@link getMany}: one `get` per distinct key, all started at once, synchronous when every
 * answer is. For a backend's own `getMany` that has nothing better to do.
 */
export function getEach<T>(
  backend: CacheBackend,
  keys: readonly CacheKey[],
  infos?: readonly ReadInfo[],
): Awaitable<BatchRead<T>[]> {
  const { keys: distinct, slots } = distinctKeys(keys);
  const inner: ReadInfo[] | undefined = infos === undefined ? undefined : distinct.map(() => ({}));
  const answers = distinct.map((key, i) =>
    attemptOne(() => backend.get<T>(key, inner?.[i]), backend.label, 'get', key),
  );
  return andThenAll(gather(answers), (read) => {
    const results = new Array<BatchRead<T>>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const slot = slots[i] as number;
      const result = read[slot];
      results[i] = result;
      if (inner !== undefined && result !== undefined && !CacheError.is(result)) {
        const source = inner[slot]?.source;
        if (source !== undefined) (infos as ReadInfo[])[i]!.source = source;
      }
    }
    return results;
  });
}

/**
 * Writes `entries` to `backend`: with its `setMany` when it has one, else with one `set` per distinct key (the
 * last entry of a key wins), all started at once. Each position is a {@link BatchWrite}; never rejects, except
 * with `INVALID_OPTIONS` when `entries` is not an array.
 */
export function setMany<T>(
  backend: CacheBackend,
  entries: readonly BatchEntry<T>[],
): Awaitable<BatchWrite[]> {
  checkEntries(entries, backend.label);
  if (entries.length === 0) return [];
  if (typeof backend.setMany === 'function') {
    return settleMany<BatchWrite>(
      () => (backend.setMany as NonNullable<CacheBackend['setMany']>).call(backend, entries),
      entries.length,
      backend.label,
      'set',
      (i) => entries[i]?.key,
    );
  }
  return setEach(backend, entries);
}

/** The fallback of {@link setMany}: one `set` per distinct key (the last entry wins), all started at once. */
export function setEach<T>(
  backend: CacheBackend,
  entries: readonly BatchEntry<T>[],
): Awaitable<BatchWrite[]> {
  const { last, slots } = lastEntries(entries);
  const answers = last.map((entry) =>
    attemptOne(() => backend.set(entry.key, entry.value), backend.label, 'set', entry.key),
  );
  return andThenAll(gather(answers), (written) =>
    slots.map((slot) => {
      const outcome = written[slot];
      return CacheError.is(outcome) ? outcome : undefined;
    }),
  );
}

/**
 * Deletes `keys` from `backend`: with its `deleteMany` when it has one, else with one `delete` per distinct key,
 * all started at once (a repeated key reports `missing` after its first position). Each position is a
 * {@link BatchDelete}; never rejects, except with `INVALID_OPTIONS` when `keys` is not an array.
 */
export function deleteMany(backend: CacheBackend, keys: readonly CacheKey[]): Awaitable<BatchDelete[]> {
  checkKeys(keys, backend.label, 'delete');
  if (keys.length === 0) return [];
  if (typeof backend.deleteMany === 'function') {
    return settleMany<BatchDelete>(
      () => (backend.deleteMany as NonNullable<CacheBackend['deleteMany']>).call(backend, keys),
      keys.length,
      backend.label,
      'delete',
      (i) => keys[i],
    );
  }
  return deleteEach(backend, keys);
}

/** The fallback of {@link deleteMany}: one `delete` per distinct key, all started at once. */
export function deleteEach(backend: CacheBackend, keys: readonly CacheKey[]): Awaitable<BatchDelete[]> {
  const { keys: distinct, slots } = distinctKeys(keys);
  const answers = distinct.map((key) => attemptOne(() => backend.delete(key), backend.label, 'delete', key));
  return andThenAll(gather(answers), (deleted) => spreadDeletes(deleted, slots));
}

/**
 * The statuses of distinct keys spread over the positions of the input: the first position of a key gets its
 * status (or error), later ones `missing` (or the same error).
 */
export function spreadDeletes(deleted: readonly BatchDelete[], slots: readonly number[]): BatchDelete[] {
  const seen = new Set<number>();
  return slots.map((slot) => {
    const status = deleted[slot] as BatchDelete;
    if (seen.has(slot) && !CacheError.is(status)) return DeleteStatus.missing;
    seen.add(slot);
    return status;
  });
}

function andThenAll<A, B>(value: Awaitable<A>, next: (value: A) => B): Awaitable<B> {
  return isPromiseLike(value) ? Promise.resolve(value).then(next) : next(value as A);
}
