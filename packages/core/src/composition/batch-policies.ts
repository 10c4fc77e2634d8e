import { type Awaitable, isPromiseLike } from '../awaitable.js';
import type { ReadInfo } from '../backend.js';
import {
  type BatchDelete,
  type BatchEntry,
  type BatchRead,
  type BatchWrite,
  deleteMany,
  getMany,
  setMany,
} from '../batch.js';
import type { CacheKey } from '../cache-key.js';
import type { CacheValue } from '../cache-value.js';
import { DeleteStatus } from '../delete-status.js';
import { CacheError } from '../errors.js';
import type { LayerName } from './events.js';
import type { LayerPair } from './layer-pair.js';
import type { Failed } from './outcome.js';
import { hitFromL2 } from './read-policies.js';
import type { RefillTicket } from './refill-guard.js';

// The batch forms of the read and write policies, over distinct keys (the composition spreads duplicates).
// Each key follows the rules of its single operation; what changes is that each layer is called once per batch.

function isHit<T>(result: BatchRead<T>): result is CacheValue<T> {
  return result !== undefined && !CacheError.is(result);
}

function failedOf<R>(result: R | CacheError): Failed | undefined {
  return CacheError.is(result) ? { ok: false, error: result } : undefined;
}

function fresh(count: number): ReadInfo[] {
  return Array.from({ length: count }, () => ({}));
}

function then<A, B>(value: Awaitable<A>, next: (value: A) => Awaitable<B>): Awaitable<B> {
  return isPromiseLike(value) ? Promise.resolve(value).then(next) : next(value as A);
}

/** Reads `keys` from L2 in one batch, registering each key with the refill guard when it answers later. */
function readL2Many<T>(
  pair: LayerPair,
  keys: readonly CacheKey[],
  inner: readonly ReadInfo[],
): { result: Awaitable<BatchRead<T>[]>; tickets: (RefillTicket | undefined)[] | undefined } {
  const result = getMany<T>(pair.l2, keys, inner);
  if (!isPromiseLike(result)) return { result, tickets: undefined };
  const tickets = keys.map((key) => pair.guard.open(key));
  return {
    result: Promise.resolve(result).then((read) => {
      for (const ticket of tickets) pair.guard.close(ticket);
      return read;
    }),
    tickets,
  };
}

/**
 * Sequential batch read: L1 for every key, then ONE batched L2 read for the keys L1 missed or failed on. L2
 * hits are copied into L1 under the same rules as single reads (fresh only, not when a write or delete of the
 * key came in meanwhile). A key no layer could answer holds the error a single read would have thrown.
 * Synchronous when L1 answered every key synchronously.
 */
export function readManySequential<T>(
  pair: LayerPair,
  keys: readonly CacheKey[],
  infos: readonly ReadInfo[] | undefined,
  l1Answer?: Awaitable<BatchRead<T>[]>,
): Awaitable<BatchRead<T>[]> {
  const i1 = fresh(keys.length);
  const r1 = l1Answer ?? getMany<T>(pair.l1, keys, i1);
  return then(r1, (o1) => {
    const results = new Array<BatchRead<T>>(keys.length);
    const missing: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const result = o1[i];
      if (isHit(result)) results[i] = pair.hit('l1', result, i1[i], infos?.[i]);
      else missing.push(i);
    }
    if (missing.length === 0) return results;
    const missKeys = missing.map((i) => keys[i] as CacheKey);
    const i2 = fresh(missing.length);
    const { result: r2, tickets } = readL2Many<T>(pair, missKeys, i2);
    return then(r2, (o2) => {
      missing.forEach((i, j) => {
        const key = keys[i] as CacheKey;
        const l1Failure = failedOf(o1[i]);
        const result = o2[j];
        if (isHit(result)) {
          results[i] = hitFromL2(pair, key, result, i2[j], infos?.[i], tickets?.[j], l1Failure);
        } else {
          results[i] = pair.failure('get', key, l1Failure, failedOf(result));
        }
      });
      return results;
    });
  });
}

/** True when `a` expires strictly later than `b` (`undefined` = never). */
function outlives(a: CacheValue<unknown>, b: CacheValue<unknown>): boolean {
  if (a.expire === undefined) return b.expire !== undefined;
  return b.expire !== undefined && a.expire > b.expire;
}

/**
 * Batch read of both layers at once, one batch each. `parallel`: of two live hits the one that expires later
 * wins (L1 on a tie). `race`: an L1 hit wins, else L2's answer (a batch has no first hit to wait for: it is
 * decided once both batches answered); an L1 answered synchronously goes the sequential way.
 */
export function readManyBoth<T>(
  pair: LayerPair,
  keys: readonly CacheKey[],
  infos: readonly ReadInfo[] | undefined,
  policy: 'race' | 'parallel',
): Awaitable<BatchRead<T>[]> {
  const i1 = fresh(keys.length);
  const r1 = getMany<T>(pair.l1, keys, i1);
  if (policy === 'race' && !isPromiseLike(r1)) return readManySequential(pair, keys, infos, r1);
  const i2 = fresh(keys.length);
  const r2 = getMany<T>(pair.l2, keys, i2);
  const tickets =
    isPromiseLike(r1) || isPromiseLike(r2) ? keys.map((key) => pair.guard.open(key)) : undefined;
  const decide = (o1: BatchRead<T>[], o2: BatchRead<T>[]): BatchRead<T>[] => {
    if (tickets !== undefined) for (const ticket of tickets) pair.guard.close(ticket);
    const now = pair.options.now();
    const live = (result: BatchRead<T>): CacheValue<T> | undefined =>
      isHit(result) && !result.isExpired(now) ? result : undefined;
    return keys.map((key, i) => {
      const v1 = live(o1[i]);
      const v2 = live(o2[i]);
      const info = infos?.[i];
      if (v1 !== undefined && (policy === 'race' || v2 === undefined || !outlives(v2, v1))) {
        const l2Failure = failedOf(o2[i]);
        if (l2Failure !== undefined) pair.report(l2Failure.error, 'l2', 'get', key);
        return pair.hit('l1', v1, i1[i], info);
      }
      if (v2 !== undefined) return hitFromL2(pair, key, v2, i2[i], info, tickets?.[i], failedOf(o1[i]));
      return pair.failure('get', key, failedOf(o1[i]), failedOf(o2[i]));
    });
  };
  if (!isPromiseLike(r1) && !isPromiseLike(r2)) return decide(r1, r2);
  return Promise.all([r1, r2]).then(([o1, o2]) => decide(o1, o2));
}

/** Deletes `keys` from `layer` after its write failed, reporting (never throwing) what could not be deleted. */
function repairMany(pair: LayerPair, layer: LayerName, keys: readonly CacheKey[]): Awaitable<void> {
  if (keys.length === 0) return;
  return then(deleteMany(pair.layer(layer), keys), (statuses) => {
    for (let i = 0; i < keys.length; i++) {
      const status = statuses[i];
      if (CacheError.is(status)) pair.report(status, layer, 'repair', keys[i] as CacheKey);
    }
  });
}

/**
 * Batch write under the composition's write policy, one batch per layer, over distinct keys. `sequential`: L1,
 * then L2 for the keys L1 stored; keys L2 failed on are removed from L1 again, and fail. `parallel` and `race`
 * (a batch waits for both layers): both at once; a key stored by one layer succeeds, and the layer that failed
 * on it is repaired (the key deleted there; the other layer when the failure is a fenced write's `LEASE_LOST`)
 * and the failure reported; a key both failed on fails.
 */
export function writeMany<T>(pair: LayerPair, entries: readonly BatchEntry<T>[]): Awaitable<BatchWrite[]> {
  if (pair.options.writePolicy === 'sequential') {
    return then(setMany(pair.l1, entries), (o1) => {
      const results = new Array<BatchWrite>(entries.length).fill(undefined);
      const stored: number[] = [];
      for (let i = 0; i < entries.length; i++) {
        const outcome = o1[i];
        if (CacheError.is(outcome)) {
          results[i] = pair.failure('set', (entries[i] as BatchEntry<T>).key, failedOf(outcome), undefined);
        } else stored.push(i);
      }
      if (stored.length === 0) return results;
      return then(
        setMany(
          pair.l2,
          stored.map((i) => entries[i] as BatchEntry<T>),
        ),
        (o2) => {
          const undo: CacheKey[] = [];
          stored.forEach((i, j) => {
            const failure = failedOf(o2[j]);
            if (failure === undefined) return;
            const key = (entries[i] as BatchEntry<T>).key;
            undo.push(key);
            results[i] = pair.failure('set', key, undefined, failure);
          });
          return then(repairMany(pair, 'l1', undo), () => results);
        },
      );
    });
  }
  const r1 = setMany(pair.l1, entries);
  const r2 = setMany(pair.l2, entries);
  const decide = (o1: BatchWrite[], o2: BatchWrite[]): Awaitable<BatchWrite[]> => {
    const repairs: Record<LayerName, CacheKey[]> = { l1: [], l2: [] };
    const results = entries.map((entry, i): BatchWrite => {
      const f1 = failedOf(o1[i]);
      const f2 = failedOf(o2[i]);
      if (f1 === undefined && f2 === undefined) return undefined;
      if (f1 !== undefined && f2 !== undefined) return pair.failure('set', entry.key, f1, f2);
      const [layer, failure] = f1 === undefined ? (['l2', f2] as const) : (['l1', f1] as const);
      const error = (failure as Failed).error;
      pair.report(error, layer, 'set', entry.key);
      // As for single writes: a fenced write refused with LEASE_LOST left a newer value in that layer, so the
      // other layer, which took ours, is the one repaired.
      const repaired = CacheError.is(error, 'LEASE_LOST') ? (layer === 'l1' ? 'l2' : 'l1') : layer;
      repairs[repaired].push(entry.key);
      return undefined;
    });
    const repaired = [repairMany(pair, 'l1', repairs.l1), repairMany(pair, 'l2', repairs.l2)];
    if (!repaired.some(isPromiseLike)) return results;
    return Promise.all(repaired).then(() => results);
  };
  if (!isPromiseLike(r1) && !isPromiseLike(r2)) return decide(r1, r2);
  return Promise.all([r1, r2]).then(([o1, o2]) => decide(o1, o2));
}

/**
 * Batch delete from both layers at once, one batch each, over distinct keys; counts are summed per key. A key a
 * layer failed on holds that layer's error (`ALL_LAYERS_FAILED` when both failed), as a single delete throws it.
 */
export function removeMany(pair: LayerPair, keys: readonly CacheKey[]): Awaitable<BatchDelete[]> {
  const d1 = deleteMany(pair.l1, keys);
  const d2 = deleteMany(pair.l2, keys);
  const decide = (o1: BatchDelete[], o2: BatchDelete[]): BatchDelete[] =>
    keys.map((key, i) => {
      const a = o1[i] as BatchDelete;
      const b = o2[i] as BatchDelete;
      if (!CacheError.is(a) && !CacheError.is(b)) return DeleteStatus.combine(a, b);
      return pair.failure('delete', key, failedOf(a), failedOf(b)) as CacheError;
    });
  if (!isPromiseLike(d1) && !isPromiseLike(d2)) return decide(d1, d2);
  return Promise.all([d1, d2]).then(([o1, o2]) => decide(o1, o2));
}
