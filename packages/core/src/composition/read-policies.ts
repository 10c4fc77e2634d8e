import { type Awaitable, isPromiseLike } from '../awaitable.js';
import type { ReadInfo } from '../backend.js';
import type { CacheKey } from '../cache-key.js';
import type { CacheValue } from '../cache-value.js';
import type { LayerPair } from './layer-pair.js';
import { attempt, both, type Failed, failureOf, type Outcome } from './outcome.js';
import { race } from './race.js';
import type { RefillTicket } from './refill-guard.js';

// Error rule shared by every read policy: a hit from either layer is returned and the other layer's error is
// reported to onError; without a hit, the read throws when at least one layer failed (the miss cannot be
// trusted), and returns undefined only when both layers answered with a miss.

type Read<T> = Outcome<CacheValue<T> | undefined>;

function isHit<T>(outcome: Read<T>): boolean {
  return outcome.ok && outcome.value !== undefined;
}

/** Starts an L2 read, registering it with the refill guard when it answers later. */
function readL2<T>(
  pair: LayerPair,
  key: CacheKey,
  inner: ReadInfo,
): { result: Awaitable<Read<T>>; ticket: RefillTicket | undefined } {
  const result = attempt(() => pair.l2.get<T>(key, inner));
  if (!isPromiseLike(result)) return { result, ticket: undefined };
  const ticket = pair.guard.open(key);
  return {
    result: result.then((outcome) => {
      pair.guard.close(ticket);
      return outcome;
    }),
    ticket,
  };
}

/** Returns a hit from L2: copies it into L1 and reports the L1 error it hid, if any. Batch reads use it too. */
export function hitFromL2<T>(
  pair: LayerPair,
  key: CacheKey,
  value: CacheValue<T>,
  inner: ReadInfo | undefined,
  info: ReadInfo | undefined,
  ticket: RefillTicket | undefined,
  l1Failure: Failed | undefined,
): CacheValue<T> {
  if (l1Failure !== undefined) pair.report(l1Failure.error, 'l1', 'get', key);
  pair.refill(key, value, pair.source('l2', inner), ticket);
  return pair.hit('l2', value, inner, info);
}

/** The sequential read after L1 missed (`l1Failure` undefined) or failed: L2 decides. */
export function readFromL2<T>(
  pair: LayerPair,
  key: CacheKey,
  info: ReadInfo | undefined,
  l1Failure: Failed | undefined,
): Awaitable<CacheValue<T> | undefined> {
  const inner: ReadInfo = {};
  const { result, ticket } = readL2<T>(pair, key, inner);
  const settle = (o2: Read<T>): CacheValue<T> | undefined => {
    if (o2.ok && o2.value !== undefined)
      return hitFromL2(pair, key, o2.value, inner, info, ticket, l1Failure);
    pair.throwIfFailed('get', key, l1Failure, failureOf(o2));
    return undefined;
  };
  return isPromiseLike(result) ? result.then(settle) : settle(result);
}

/** The sequential read once an asynchronous L1 answered; L1 was given the caller's `info` itself. */
export function continueSequential<T>(
  pair: LayerPair,
  key: CacheKey,
  info: ReadInfo | undefined,
  pending: PromiseLike<CacheValue<T> | undefined>,
): Promise<CacheValue<T> | undefined> {
  return Promise.resolve(pending).then(
    (value) =>
      value === undefined ? readFromL2<T>(pair, key, info, undefined) : pair.hit('l1', value, info, info),
    (error: unknown) => readFromL2<T>(pair, key, info, { ok: false, error }),
  );
}

/** Race: both layers at once, the first hit wins. A synchronous L1 hit wins before L2 is asked. */
export function readRace<T>(
  pair: LayerPair,
  key: CacheKey,
  info: ReadInfo | undefined,
): Awaitable<CacheValue<T> | undefined> {
  const i1: ReadInfo = {};
  const r1 = attempt(() => pair.l1.get<T>(key, i1));
  if (!isPromiseLike(r1)) {
    if (r1.ok && r1.value !== undefined) return pair.hit('l1', r1.value, i1, info);
    return readFromL2<T>(pair, key, info, failureOf(r1));
  }
  const i2: ReadInfo = {};
  const { result: r2, ticket } = readL2<T>(pair, key, i2);
  return race<CacheValue<T> | undefined, CacheValue<T> | undefined>(
    r1,
    r2,
    {
      wins: isHit,
      won(layer, outcome, other) {
        const value = (outcome as { value: CacheValue<T> }).value;
        const otherFailure = other === undefined ? undefined : failureOf(other);
        if (layer === 'l2') return hitFromL2(pair, key, value, i2, info, ticket, otherFailure);
        if (otherFailure !== undefined) pair.report(otherFailure.error, 'l2', 'get', key);
        return pair.hit('l1', value, i1, info);
      },
      lost(o1, o2) {
        pair.throwIfFailed('get', key, failureOf(o1), failureOf(o2));
        return undefined;
      },
      late(layer, outcome) {
        if (!outcome.ok) pair.report(outcome.error, layer, 'get', key);
      },
    },
    (work) => {
      if (pair.options.raceLoser === 'background') pair.track(work);
    },
  );
}

/** True when `a` expires strictly later than `b` (`undefined` = never). */
function outlives(a: CacheValue<unknown>, b: CacheValue<unknown>): boolean {
  if (a.expire === undefined) return b.expire !== undefined;
  return b.expire !== undefined && a.expire > b.expire;
}

/** Parallel: both layers, both awaited; of two live hits, the one that expires later wins (L1 on a tie). */
export function readParallel<T>(
  pair: LayerPair,
  key: CacheKey,
  info: ReadInfo | undefined,
): Awaitable<CacheValue<T> | undefined> {
  const i1: ReadInfo = {};
  const i2: ReadInfo = {};
  const r1 = attempt(() => pair.l1.get<T>(key, i1));
  const r2 = attempt(() => pair.l2.get<T>(key, i2));
  // Decided later than L2 answered: a change of the key meanwhile must void the refill.
  const ticket = isPromiseLike(r1) || isPromiseLike(r2) ? pair.guard.open(key) : undefined;
  return both(r1, r2, (o1, o2) => {
    if (ticket !== undefined) pair.guard.close(ticket);
    const now = pair.options.now();
    const live = (outcome: Read<T>): CacheValue<T> | undefined =>
      outcome.ok && outcome.value !== undefined && !outcome.value.isExpired(now) ? outcome.value : undefined;
    const v1 = live(o1);
    const v2 = live(o2);
    if (v1 !== undefined && (v2 === undefined || !outlives(v2, v1))) {
      if (!o2.ok) pair.report(o2.error, 'l2', 'get', key);
      return pair.hit('l1', v1, i1, info);
    }
    if (v2 !== undefined) return hitFromL2(pair, key, v2, i2, info, ticket, failureOf(o1));
    pair.throwIfFailed('get', key, failureOf(o1), failureOf(o2));
    return undefined;
  });
}
