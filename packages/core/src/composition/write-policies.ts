import type { Awaitable } from '../awaitable.js';
import type { CacheKey } from '../cache-key.js';
import type { CacheValue } from '../cache-value.js';
import { DeleteStatus } from '../delete-status.js';
import { CacheError } from '../errors.js';
import type { LayerName } from './events.js';
import type { LayerPair } from './layer-pair.js';
import { attempt, both, type Failed, failureOf, type Outcome, andThen } from './outcome.js';
import { race } from './race.js';

/**
 * Reports the failed half of a write that succeeded elsewhere, and repairs the layer it failed in. A fenced write
 * refused with `LEASE_LOST` (see `LeasedValue`) wrote nothing, and the layer holds a newer value than ours: the
 * other layer, which took ours, is repaired instead.
 */
function partialFailure(pair: LayerPair, key: CacheKey, layer: LayerName, failure: Failed): Awaitable<void> {
  pair.report(failure.error, layer, 'set', key);
  if (CacheError.is(failure.error, 'LEASE_LOST')) return pair.repair(layer === 'l1' ? 'l2' : 'l1', key);
  return pair.repair(layer, key);
}

/**
 * Sequential, strict: L1 then L2, and the write fails as soon as one layer does. After an L1 failure L2 is not
 * written; after an L2 failure L1 drops the new value again, so L1 never holds what L2 lacks.
 */
function writeSequential<T>(pair: LayerPair, key: CacheKey, value: CacheValue<T>): Awaitable<void> {
  return andThen(
    attempt(() => pair.l1.set(key, value)),
    (o1) => {
      pair.throwIfFailed('set', key, failureOf(o1), undefined);
      return andThen(
        attempt(() => pair.l2.set(key, value)),
        (o2) => {
          if (o2.ok) return;
          return andThen(pair.repair('l1', key), () => pair.throwIfFailed('set', key, undefined, o2));
        },
      );
    },
  );
}

/** Optimistic parallel: both at once; succeeds when at least one layer stored the value. */
function writeParallel<T>(pair: LayerPair, key: CacheKey, value: CacheValue<T>): Awaitable<void> {
  return both(
    attempt(() => pair.l1.set(key, value)),
    attempt(() => pair.l2.set(key, value)),
    (o1, o2) => {
      if (o1.ok && o2.ok) return;
      if (!o1.ok && !o2.ok) pair.throwIfFailed('set', key, o1, o2);
      return o1.ok ? partialFailure(pair, key, 'l2', o2 as Failed) : partialFailure(pair, key, 'l1', o1);
    },
  );
}

/** Race: both at once; resolves on the first success, the other write goes on in the background. */
function writeRace<T>(pair: LayerPair, key: CacheKey, value: CacheValue<T>): Awaitable<void> {
  const background = pair.options.raceLoser === 'background';
  return race<void, void>(
    attempt(() => pair.l1.set(key, value)),
    attempt(() => pair.l2.set(key, value)),
    {
      wins: (outcome: Outcome<void>) => outcome.ok,
      won(layer, _outcome, other) {
        if (other === undefined || other.ok) return;
        return partialFailure(pair, key, layer === 'l1' ? 'l2' : 'l1', other);
      },
      lost(o1, o2) {
        pair.throwIfFailed('set', key, failureOf(o1), failureOf(o2));
      },
      late(layer, outcome) {
        if (outcome.ok) return;
        if (background) return partialFailure(pair, key, layer, outcome);
        pair.report(outcome.error, layer, 'set', key);
      },
    },
    (work) => {
      if (background) pair.track(work);
    },
  );
}

/** Writes `value` to both layers according to the composition's write policy. */
export function writeValue<T>(pair: LayerPair, key: CacheKey, value: CacheValue<T>): Awaitable<void> {
  switch (pair.options.writePolicy) {
    case 'sequential':
      return writeSequential(pair, key, value);
    case 'race':
      return writeRace(pair, key, value);
    default:
      return writeParallel(pair, key, value);
  }
}

/**
 * Deletes from both layers at once, whatever the write policy, and sums their counts. Strict: when a layer
 * fails, the key may still be served from it, so the delete throws that layer's error (`ALL_LAYERS_FAILED` when
 * both failed) even though the other layer did delete.
 */
export function deleteEverywhere(
  pair: LayerPair,
  key: CacheKey,
  l1: () => Awaitable<DeleteStatus>,
  l2: () => Awaitable<DeleteStatus>,
): Awaitable<DeleteStatus> {
  return both(attempt(l1), attempt(l2), (o1, o2) => {
    if (o1.ok && o2.ok) return DeleteStatus.combine(o1.value, o2.value);
    throw pair.failure('delete', key, failureOf(o1), failureOf(o2));
  });
}
