import { type Awaitable, isPromiseLike } from '../awaitable.js';
import type { CacheBackend, ReadInfo } from '../backend.js';
import { BackendLabel } from '../backend-label.js';
import type { CacheKey } from '../cache-key.js';
import { CacheValue } from '../cache-value.js';
import { DeleteStatus } from '../delete-status.js';
import { CacheError } from '../errors.js';
import {
  type BatchDelete,
  type BatchEntry,
  type BatchRead,
  type BatchWrite,
  checkEntries,
  checkKeys,
  distinctKeys,
  lastEntries,
  spreadDeletes,
} from '../batch.js';
import { readManyBoth, readManySequential, removeMany, writeMany } from './batch-policies.js';
import type { CompositionListener } from './events.js';
import { LayerPair } from './layer-pair.js';
import {
  type CompositionOptions,
  type ResolvedCompositionOptions,
  resolveCompositionOptions,
} from './options.js';
import { attempt, both, failureOf } from './outcome.js';
import { continueSequential, readFromL2, readParallel, readRace } from './read-policies.js';
import { deleteEverywhere, writeValue } from './write-policies.js';

/** A backend that can drop everything it holds at once, as a near tier must for {@link Composition.invalidateAll}. */
export interface ClearableBackend extends CacheBackend {
  /** Removes every entry. */
  clear(): Awaitable<void>;
}

/**
 * Two backends as one: a near layer (L1, e.g. memory) in front of a far one (L2, e.g. Redis, or another
 * composition, so tiers nest). It is itself a {@link CacheBackend}: each layer keeps its own format, compressor
 * and key format, since the composition only calls their typed `get`, `set` and `delete` with whole
 * {@link CacheValue}s, expire and stale included. Build one with {@link compose}; the guide
 * (`docs/composition.md`) has the policies and their error rules.
 */
export class Composition<L1 extends CacheBackend = CacheBackend, L2 extends CacheBackend = CacheBackend>
  implements CacheBackend
{
  /** Name of the composition, the first segment of the source path of its hits. */
  readonly label: BackendLabel;
  /** The near layer. Calling it directly bypasses the composition (no refill guard, no events). */
  readonly l1: L1;
  /** The far layer. */
  readonly l2: L2;
  /** The options in force, defaults applied. */
  readonly options: ResolvedCompositionOptions;
  readonly #pair: LayerPair;
  readonly #sequential: boolean;
  readonly #l1: CacheBackend;
  // The source path of the last L1 hit, so a hit composes no string.
  #lastL1Source: BackendLabel | undefined;
  #lastL1Path: BackendLabel;

  constructor(l1: L1, l2: L2, options: CompositionOptions = {}) {
    for (const [name, layer] of [['l1', l1] as const, ['l2', l2] as const]) {
      if (typeof layer !== 'object' || layer === null || typeof layer.get !== 'function') {
        throw new CacheError('INVALID_OPTIONS', `compose: ${name} must be a CacheBackend`);
      }
    }
    if ((l1 as CacheBackend) === l2) {
      throw new CacheError('INVALID_OPTIONS', 'compose: l1 and l2 must be two different backends');
    }
    this.options = resolveCompositionOptions(options);
    this.label = this.options.label;
    this.l1 = l1;
    this.#l1 = l1;
    this.#lastL1Source = l1.label;
    this.#lastL1Path = BackendLabel.compose(this.label, l1.label);
    this.l2 = l2;
    this.#pair = new LayerPair(l1, l2, this.options);
    this.#sequential = this.options.readPolicy === 'sequential';
  }

  /**
   * Reads `key` according to the read policy. An L1 hit answered synchronously under the sequential policy is
   * returned synchronously, at about the cost of the L1 read. On a hit, `info.source` is the label path of the
   * layer that answered, e.g. `"cache.memory"`.
   */
  get<T>(key: CacheKey, info?: ReadInfo): Awaitable<CacheValue<T> | undefined> {
    if (!this.#sequential) {
      const pair = this.#pair;
      return this.options.readPolicy === 'race'
        ? readRace<T>(pair, key, info)
        : readParallel<T>(pair, key, info);
    }
    // The fast path: the caller's `info` goes to L1 as it is (a hit sets its source, a miss leaves it alone),
    // and a synchronous hit returns at once.
    let result: Awaitable<CacheValue<T> | undefined>;
    try {
      result = this.#l1.get<T>(key, info);
    } catch (error) {
      return readFromL2<T>(this.#pair, key, info, { ok: false, error });
    }
    if (result instanceof CacheValue) {
      if (info !== undefined) info.source = this.#l1Source(info.source);
      return result;
    }
    return this.#afterL1(key, info, result);
  }

  #l1Source(reported: BackendLabel | undefined): BackendLabel {
    if (reported !== this.#lastL1Source) {
      this.#lastL1Source = reported;
      this.#lastL1Path = BackendLabel.compose(this.label, reported ?? this.#l1.label);
    }
    return this.#lastL1Path;
  }

  #afterL1<T>(
    key: CacheKey,
    info: ReadInfo | undefined,
    result: Awaitable<CacheValue<T> | undefined>,
  ): Awaitable<CacheValue<T> | undefined> {
    const pair = this.#pair;
    if (result === undefined) return readFromL2<T>(pair, key, info, undefined);
    if (isPromiseLike(result)) return continueSequential<T>(pair, key, info, result);
    // A value from another copy of this package: not an instance of our CacheValue, still a hit.
    if (info !== undefined) info.source = this.#l1Source(info.source);
    return result;
  }

  /**
   * Writes `value`, expire and stale included, to both layers according to the write policy. An already expired
   * value removes the entry from both (each layer's own `set` does that).
   */
  set<T>(key: CacheKey, value: CacheValue<T>): Awaitable<void> {
    const pair = this.#pair;
    pair.guard.voidKey(key);
    const written = writeValue(pair, key, value);
    const done = (): void => {
      if (pair.listeners.size > 0) pair.emit({ type: 'set', key, value });
    };
    if (!isPromiseLike(written)) return done();
    return this.#whileWriting(key, written).then(done);
  }

  /**
   * Deletes `key` from both layers at once and sums their counts, so a key held by both reports 2. Throws when a
   * layer fails, since the key may still be served from it.
   */
  delete(key: CacheKey): Awaitable<DeleteStatus> {
    const pair = this.#pair;
    pair.guard.voidKey(key);
    const deleted = deleteEverywhere(
      pair,
      key,
      () => this.l1.delete(key),
      () => this.l2.delete(key),
    );
    const done = (status: DeleteStatus): DeleteStatus => {
      if (pair.listeners.size > 0) pair.emit({ type: 'delete', key, status });
      return status;
    };
    if (!isPromiseLike(deleted)) return done(deleted);
    return this.#whileWriting(key, deleted).then(done);
  }

  /**
   * Reads every key with one batch per layer. Sequential policy: L1 first, then ONE batched L2 read for the
   * keys L1 missed (or failed on); fresh L2 hits are copied into L1 with their expire and stale instants, under
   * the same refill guard as single reads. Race and parallel: both layers' batches at once, decided per key as
   * the single read decides (a batch has no first hit to wait for, so race decides once both answered; an L1
   * that answers synchronously goes the sequential way). One position per key, each as `get` would answer it:
   * a key no layer could answer holds the error `get` would have thrown. Synchronous when L1 answered every key
   * synchronously with a hit.
   */
  getMany<T>(keys: readonly CacheKey[], infos?: readonly ReadInfo[]): Awaitable<BatchRead<T>[]> {
    checkKeys(keys, this.label, 'get');
    const { keys: distinct, slots } = distinctKeys(keys);
    const direct = distinct.length === keys.length;
    const inner = direct ? infos : infos === undefined ? undefined : distinct.map((): ReadInfo => ({}));
    const policy = this.options.readPolicy;
    const read =
      policy === 'sequential'
        ? readManySequential<T>(this.#pair, distinct, inner)
        : readManyBoth<T>(this.#pair, distinct, inner, policy);
    if (direct) return read;
    const spread = (results: BatchRead<T>[]): BatchRead<T>[] =>
      slots.map((slot, i) => {
        const source = inner?.[slot]?.source;
        if (source !== undefined && infos !== undefined) (infos[i] as ReadInfo).source = source;
        return results[slot];
      });
    return isPromiseLike(read) ? Promise.resolve(read).then(spread) : spread(read);
  }

  /**
   * Writes every entry with one batch per layer, according to the write policy (`race` waits for both layers,
   * as `parallel` does). The last entry of a repeated key wins. Each position holds `undefined` or the error
   * `set` would have thrown; a key stored by one layer only under `parallel` succeeds, the other layer is
   * repaired and its error reported to `onError`, as for `set`.
   */
  setMany<T>(entries: readonly BatchEntry<T>[]): Awaitable<BatchWrite[]> {
    const pair = this.#pair;
    checkEntries(entries, this.label);
    const { last, slots } = lastEntries(entries);
    for (const entry of last) pair.guard.voidKey(entry.key);
    const written = writeMany(pair, last);
    const done = (outcomes: BatchWrite[]): BatchWrite[] => {
      if (pair.listeners.size > 0) {
        for (let i = 0; i < last.length; i++) {
          const entry = last[i] as BatchEntry<T>;
          if (outcomes[i] === undefined) pair.emit({ type: 'set', key: entry.key, value: entry.value });
        }
      }
      return slots.map((slot) => outcomes[slot]);
    };
    if (!isPromiseLike(written)) return done(written);
    return this.#whileWritingMany(
      last.map((entry) => entry.key),
      written,
    ).then(done);
  }

  /**
   * Deletes every key from both layers with one batch each and sums their counts per key. A key a layer failed
   * on holds that layer's error, since it may still be served from it. A repeated key reports `missing` after
   * its first position.
   */
  deleteMany(keys: readonly CacheKey[]): Awaitable<BatchDelete[]> {
    const pair = this.#pair;
    checkKeys(keys, this.label, 'delete');
    const { keys: distinct, slots } = distinctKeys(keys);
    for (const key of distinct) pair.guard.voidKey(key);
    const deleted = removeMany(pair, distinct);
    const done = (statuses: BatchDelete[]): BatchDelete[] => {
      if (pair.listeners.size > 0) {
        for (let i = 0; i < distinct.length; i++) {
          const status = statuses[i] as BatchDelete;
          if (!CacheError.is(status)) pair.emit({ type: 'delete', key: distinct[i] as CacheKey, status });
        }
      }
      return spreadDeletes(statuses, slots);
    };
    if (!isPromiseLike(deleted)) return done(deleted);
    return this.#whileWritingMany(distinct, deleted).then(done);
  }

  /**
   * Drops the near copies of `key`: deletes it from L1 and, when L2 is a composition, invalidates it there
   * too; the far store keeps it. L2 reads in flight for `key` will not refill L1. A coherence layer calls this
   * when another process changed the key. Returns the number of copies dropped; throws like `delete`.
   */
  invalidate(key: CacheKey): Awaitable<DeleteStatus> {
    const pair = this.#pair;
    pair.guard.voidKey(key);
    const l2 = this.l2 as CacheBackend;
    const dropped = deleteEverywhere(
      pair,
      key,
      () => this.l1.delete(key),
      () => (l2 instanceof Composition ? l2.invalidate(key) : DeleteStatus.missing),
    );
    return isPromiseLike(dropped) ? this.#whileWriting(key, dropped) : dropped;
  }

  /**
   * Removes every entry whose key prefix starts with `prefix` from both layers at once (nested compositions
   * included); L2 reads in flight will not refill L1 with what was removed. Needs `clearPrefix` on both
   * layers (`INVALID_OPTIONS` otherwise); rejects, naming the layer, when one failed, since it may still
   * serve entries.
   */
  clearPrefix(prefix: string): Promise<void> {
    return this.#clearPrefix(prefix);
  }

  async #clearPrefix(prefix: string): Promise<void> {
    const pair = this.#pair;
    const l1 = this.l1 as CacheBackend;
    const l2 = this.l2 as CacheBackend;
    for (const [layer, name] of [
      [l1, 'L1'],
      [l2, 'L2'],
    ] as const) {
      if (typeof layer.clearPrefix !== 'function') {
        throw new CacheError(
          'INVALID_OPTIONS',
          `clearPrefix: ${name} ("${layer.label}") of "${this.label}" cannot clear by prefix`,
          { backend: this.label, operation: 'clear' },
        );
      }
    }
    pair.guard.beginClear();
    try {
      const o1 = attempt(() => (l1.clearPrefix as (prefix: string) => Promise<void>).call(l1, prefix));
      const o2 = attempt(() => (l2.clearPrefix as (prefix: string) => Promise<void>).call(l2, prefix));
      await both(o1, o2, (a, b) => {
        const error = pair.failure('clear', undefined, failureOf(a), failureOf(b));
        if (error !== undefined) throw error;
      });
    } finally {
      pair.guard.endClear();
    }
  }

  /**
   * Drops the near copies of every key whose prefix starts with `prefix` (`""`: all of them): clears L1 by
   * prefix and, when L2 is a composition, its near layers too; the far store keeps them. L2 reads in flight
   * will not refill. A coherence layer calls this when another process cleared a namespace. An L1 without
   * `clearPrefix` is cleared whole (`clear()`), which drops more than asked, never less; one with neither
   * fails with `INVALID_OPTIONS`.
   */
  invalidatePrefix(prefix: string): Promise<void> {
    return this.#invalidatePrefix(prefix);
  }

  async #invalidatePrefix(prefix: string): Promise<void> {
    const pair = this.#pair;
    const l1 = this.l1 as Partial<ClearableBackend>;
    const l2 = this.l2 as CacheBackend;
    if (typeof l1.clearPrefix !== 'function' && typeof l1.clear !== 'function') {
      throw new CacheError(
        'INVALID_OPTIONS',
        `invalidatePrefix: L1 of "${this.label}" has neither clearPrefix() nor clear()`,
        { backend: this.label, operation: 'clear' },
      );
    }
    pair.guard.beginClear();
    try {
      const o1 = attempt(() =>
        typeof l1.clearPrefix === 'function' ? l1.clearPrefix(prefix) : (l1 as ClearableBackend).clear(),
      );
      const o2 = attempt(() => (l2 instanceof Composition ? l2.#invalidatePrefix(prefix) : undefined));
      await both(o1, o2, (a, b) => {
        const error = pair.failure('clear', undefined, failureOf(a), failureOf(b));
        if (error !== undefined) throw error;
      });
    } finally {
      pair.guard.endClear();
    }
  }

  /**
   * Drops every near copy: clears L1 and, when L2 is a composition, its near layers too. L2 reads in flight
   * will not refill. A coherence layer calls this when it can no longer trust L1 (after a disconnect). Needs
   * an L1 with `clear()`; a nested composition whose L1 has none fails with `INVALID_OPTIONS`.
   */
  invalidateAll(this: Composition<ClearableBackend, CacheBackend>): Promise<void> {
    return this.#invalidateAll();
  }

  async #invalidateAll(): Promise<void> {
    const pair = this.#pair;
    const l1 = this.l1 as Partial<ClearableBackend>;
    const l2 = this.l2 as CacheBackend;
    if (typeof l1.clear !== 'function') {
      throw new CacheError('INVALID_OPTIONS', `invalidateAll: L1 of "${this.label}" has no clear()`);
    }
    pair.guard.beginClear();
    try {
      const o1 = attempt(() => (l1 as ClearableBackend).clear());
      const o2 = attempt(() => (l2 instanceof Composition ? l2.#invalidateAll() : undefined));
      await both(o1, o2, (a, b) => {
        const error = pair.failure('clear', undefined, failureOf(a), failureOf(b));
        if (error !== undefined) throw error;
      });
    } finally {
      pair.guard.endClear();
    }
  }

  /**
   * Calls `listener` after each successful `set` and `delete` made through the composition, and after each
   * refill of L1. Returns the function that unsubscribes it.
   */
  subscribe(listener: CompositionListener): () => void {
    const listeners = this.#pair.listeners;
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  /**
   * Resolves once the background work started so far has settled: refills into an asynchronous L1, race losers
   * followed under `raceLoser: "background"`, repairs. For tests and graceful shutdown; it waits for a hung layer
   * as long as the layer hangs.
   */
  whenIdle(): Promise<void> {
    return this.#pair.whenIdle();
  }

  /**
   * Closes both layers (at once), without waiting for background work: call `whenIdle()` first for that. Throws
   * the failed layer's error, or `ALL_LAYERS_FAILED`.
   */
  async close(): Promise<void> {
    const pair = this.#pair;
    await both(
      attempt(() => this.l1.close?.()),
      attempt(() => this.l2.close?.()),
      (o1, o2) => {
        const error = pair.failure('close', undefined, failureOf(o1), failureOf(o2));
        if (error !== undefined) throw error;
      },
    );
  }

  /** {@link #whileWriting} for several keys at once. */
  #whileWritingMany<R>(keys: readonly CacheKey[], work: PromiseLike<R>): Promise<R> {
    const guard = this.#pair.guard;
    for (const key of keys) guard.beginWrite(key);
    return Promise.resolve(work).finally(() => {
      for (const key of keys) guard.endWrite(key);
    });
  }

  /** Marks a write of `key` in flight until `work` settles, so no refill of `key` lands in between. */
  #whileWriting<R>(key: CacheKey, work: PromiseLike<R>): Promise<R> {
    const guard = this.#pair.guard;
    guard.beginWrite(key);
    return Promise.resolve(work).finally(() => guard.endWrite(key));
  }
}

/**
 * Composes a near backend `l1` in front of a far backend `l2`. The result is a {@link CacheBackend} too, so
 * `compose(memory, compose(memory2, redis))` nests. Defaults: sequential reads, optimistic parallel writes,
 * refill on, label `"cache"`.
 *
 * @example
 * const cache = compose(memoryBackend({ maxEntries: 10_000 }), redis, { onError: (e) => log.warn(e.error) });
 * const info: ReadInfo = {};
 * const hit = await cache.get(key, info); // info.source: "cache.memory" or "cache.redis"
 */
export function compose<L1 extends CacheBackend, L2 extends CacheBackend>(
  l1: L1,
  l2: L2,
  options: CompositionOptions = {},
): Composition<L1, L2> {
  return new Composition(l1, l2, options);
}
