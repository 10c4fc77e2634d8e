import {
  CacheError,
  type CacheKey,
  type CacheValue,
  isPromiseLike,
  type OperationContext,
  type ReadInfo,
} from '@cache/core';
import type { StaleReason } from './events.js';
import type { Flight, Loader, LoaderContext } from './flight.js';
import type { KeyInput } from './keys.js';
import type { LifetimeOptions, ResolvedGetOrSetOptions } from './options.js';
import type { Shared } from './shared.js';
import { readMany } from './store-batch.js';
import { isTagged } from './tag-envelope.js';

/** What a batch loader is told about the keys it loads. */
export interface BatchLoaderContext<S> {
  /** The keys being loaded, namespace included, in the order of the loader's `keys` argument. */
  readonly keys: readonly CacheKey[];
  /** Aborted when the loads pass their hard timeout or the cache closes. */
  readonly signal: AbortSignal;
  /** For each key, its previous value while one is kept (stale, within grace), else `undefined`. */
  readonly stale: readonly (S | undefined)[];
  /** Return the value of key `index` (of every key without an index) to its callers without storing it. */
  skip(index?: number): void;
  /** Lifetimes and tags of the value of key `index` (of every key without an index), from what was loaded. */
  setOptions(options: LifetimeOptions, index?: number): void;
  /**
   * Key `index` could not be loaded: its callers get `LOADER_FAILED` with `error` as `cause` (or its stale value,
   * fail-safe), while the other keys keep the values returned. The value returned at `index` is ignored.
   */
  fail(index: number, error: unknown): void;
}

/**
 * Loads the values of several keys at once (`getOrSetMany`): receives the keys to load as the caller gave them
 * and returns their values in the same order (an array of the same length).
 */
export type BatchLoader<T, S = T> = (
  keys: KeyInput[],
  ctx: BatchLoaderContext<S>,
) => readonly T[] | PromiseLike<readonly T[]>;

/** The steps of a `Cache` a batch is made of (its private methods, lent to this file). */
export interface BatchHost {
  readonly shared: Shared;
  hit<T>(key: CacheKey, data: T, source: string | undefined, trace: OperationContext | undefined): T;
  miss(key: CacheKey, trace: OperationContext | undefined): void;
  staleServed<T>(key: CacheKey, data: T, reason: StaleReason, trace: OperationContext | undefined): T;
  /** Answers from the value kept for an outage after a failed read, if any (reports the failure). */
  readFailed<T>(key: CacheKey, error: unknown, trace: OperationContext | undefined): Promise<T> | undefined;
  /** Waits for `key`'s run (`started`, or the one in flight, or a new one) within the caller's limits. */
  load<T>(
    key: CacheKey,
    loader: Loader<T>,
    options: ResolvedGetOrSetOptions,
    stale: CacheValue<T> | undefined,
    trace: OperationContext | undefined,
    started?: Flight<T>,
  ): Promise<T>;
  start<T>(
    key: CacheKey,
    loader: Loader<T>,
    options: ResolvedGetOrSetOptions,
    stale: CacheValue<T> | undefined,
    background: boolean,
  ): Flight<T>;
}

/** One distinct key of a batch. */
interface Slot<T> {
  readonly key: CacheKey;
  /** The key as the caller gave it (the first time, for a key given twice). */
  readonly input: KeyInput;
  readonly trace: OperationContext | undefined;
  readonly info: ReadInfo;
  /** The answer, once known. */
  result?: Promise<T>;
  /** Read from the store: its value (tags vetted), or the read's error. */
  value?: CacheValue<T> | undefined;
  error?: unknown;
}

/** A loader that is never called: every run of a batch is started before its callers wait for it. */
const NEVER: Loader<never> = () => {
  throw new CacheError('INVALID_OPTIONS', 'internal: a batch run was not started');
};

/**
 * `getOrSetMany` for the distinct `slots`: answers from memory runs in flight, one batched read of the store,
 * then one loader call for every key that must load (foreground misses and stale values to refresh), joining
 * runs already in flight for the others. Resolves once every slot has its `result`.
 */
export function getOrSetSlots<T>(
  host: BatchHost,
  slots: Slot<T>[],
  loader: BatchLoader<T>,
  options: ResolvedGetOrSetOptions,
): Promise<void> {
  const s = host.shared;
  const toRead: Slot<T>[] = [];
  for (const slot of slots) {
    const loaded = s.loaded(slot.key);
    if (loaded !== undefined) {
      slot.result = Promise.resolve(host.hit(slot.key, loaded.value as T, 'in-flight', slot.trace));
    } else {
      toRead.push(slot);
    }
  }
  if (toRead.length === 0) return Promise.resolve();
  if (options.tags !== undefined) s.tags.prefetch(options.tags);
  const read = readMany<T>(
    s.store,
    toRead.map((slot) => slot.key),
    toRead.map((slot) => slot.info),
  );
  const vetAll = (results: (CacheValue<T> | undefined | CacheError)[]): void | Promise<void> => {
    const pending: Promise<void>[] = [];
    toRead.forEach((slot, i) => {
      const result = results[i];
      if (result instanceof CacheError) {
        slot.error = result;
      } else if (result !== undefined && isTagged(result.data)) {
        try {
          const vetted = s.vetRead<T>(slot.key, result, slot.info);
          if (isPromiseLike(vetted)) {
            pending.push(
              Promise.resolve(vetted).then(
                (value) => {
                  slot.value = value;
                },
                (error: unknown) => {
                  slot.error = error;
                },
              ),
            );
          } else {
            slot.value = vetted;
          }
        } catch (error) {
          slot.error = error;
        }
      } else {
        slot.value = result;
      }
    });
    if (pending.length > 0) return Promise.all(pending).then(() => undefined);
  };
  const vetted = isPromiseLike(read) ? Promise.resolve(read).then(vetAll) : vetAll(read);
  const decide = (): void => decideSlots(host, toRead, loader, options);
  return isPromiseLike(vetted) ? Promise.resolve(vetted).then(decide) : Promise.resolve(decide());
}

/** What each read slot gets: a hit, a stale value (and maybe a refresh), or a wait for a load. */
function decideSlots<T>(
  host: BatchHost,
  slots: Slot<T>[],
  loader: BatchLoader<T>,
  options: ResolvedGetOrSetOptions,
): void {
  const s = host.shared;
  const now = s.now();
  /** Keys to load in this batch: [slot, stale value, background]. */
  const toLoad: [Slot<T>, CacheValue<T> | undefined, boolean][] = [];
  /** Keys whose callers wait for a run already in flight, or for this batch's. */
  const waiting: [Slot<T>, CacheValue<T> | undefined][] = [];
  for (const slot of slots) {
    const { key, trace } = slot;
    if (slot.error !== undefined) {
      const kept = host.readFailed<T>(key, slot.error, trace);
      if (kept !== undefined) {
        slot.result = kept;
        continue;
      }
    }
    const value = slot.error === undefined ? slot.value : undefined;
    const state = value?.state(now);
    if (value !== undefined && state === 'actual') {
      slot.result = Promise.resolve(host.hit(key, value.data, slot.info.source, trace));
      continue;
    }
    if (value !== undefined && state === 'stale') {
      if (trace !== undefined && slot.info.source !== undefined) trace.source = slot.info.source;
      if (options.stalePolicy === 'return') {
        slot.result = Promise.resolve(host.staleServed(key, value.data, 'return', trace));
        continue;
      }
      if (s.inBackoff(key, now)) {
        slot.result = Promise.resolve(host.staleServed(key, value.data, 'fail-safe', trace));
        continue;
      }
      if (options.stalePolicy === 'revalidate') {
        if (!s.flights.has(key.canonical)) {
          if (s.refreshing < s.maxBackgroundRefreshes) {
            s.refreshing++;
            s.counters.refreshes++;
            toLoad.push([slot, value, true]);
          } else {
            s.counters.refreshesSkipped++;
          }
        }
        slot.result = Promise.resolve(host.staleServed(key, value.data, 'revalidate', trace));
        continue;
      }
      waiting.push([slot, value]); // 'inline': wait for the load, the stale value as fallback
      continue;
    }
    const loaded = s.loaded(key);
    if (loaded !== undefined) {
      slot.result = Promise.resolve(host.hit(key, loaded.value as T, 'in-flight', trace));
      continue;
    }
    host.miss(key, trace);
    waiting.push([slot, undefined]);
  }
  const started = new Map<Slot<T>, Flight<T>>();
  for (const [slot, stale] of waiting) {
    if (!s.flights.has(slot.key.canonical)) toLoad.push([slot, stale, false]);
  }
  if (toLoad.length > 0) runBatch(host, toLoad, loader, options, started);
  for (const [slot, stale] of waiting) {
    const own = started.get(slot);
    // A caller that waits with a stale value counts its miss once the loaded value answers (as getOrSet).
    slot.result = host.load(slot.key, NEVER as unknown as Loader<T>, options, stale, slot.trace, own);
  }
}

/** Starts one run per key of `toLoad`, all fed by one call of the batch loader. */
function runBatch<T>(
  host: BatchHost,
  toLoad: [Slot<T>, CacheValue<T> | undefined, boolean][],
  loader: BatchLoader<T>,
  options: ResolvedGetOrSetOptions,
  started: Map<Slot<T>, Flight<T>>,
): void {
  const count = toLoad.length;
  const contexts: LoaderContext<T>[] = [];
  const failures = new Map<number, unknown>();
  let settle!: (values: readonly T[]) => void;
  let fail!: (error: unknown) => void;
  const values = new Promise<readonly T[]>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  values.catch(() => undefined); // each run reports its own failure
  const controller = new AbortController();
  let aborted = 0;
  toLoad.forEach(([slot, stale, background], i) => {
    const perKey: Loader<T> = (ctx) => {
      contexts[i] = ctx;
      ctx.signal.addEventListener(
        'abort',
        () => {
          aborted++;
          if (aborted === count) controller.abort(ctx.signal.reason);
        },
        { once: true },
      );
      return values.then((all) => {
        if (failures.has(i)) throw failures.get(i);
        return all[i] as T;
      });
    };
    const flight = host.start(slot.key, perKey, options, stale, background);
    if (background) flight.promise.then(undefined, () => undefined); // nobody waits for a refresh
    started.set(slot, flight);
  });
  const each = (index: number | undefined, act: (ctx: LoaderContext<T>) => void): void => {
    if (index === undefined) for (const ctx of contexts) act(ctx);
    else {
      const ctx = contexts[index];
      if (ctx === undefined)
        throw new CacheError('INVALID_OPTIONS', `batch loader: no key at index ${index}`);
      act(ctx);
    }
  };
  const ctx: BatchLoaderContext<T> = {
    keys: toLoad.map(([slot]) => slot.key),
    signal: controller.signal,
    stale: toLoad.map(([, stale]) => stale?.data),
    skip: (index) => each(index, (one) => one.skip()),
    setOptions: (chosen, index) => each(index, (one) => one.setOptions(chosen)),
    fail: (index, error) => {
      each(index, () => undefined);
      failures.set(index, error);
    },
  };
  let result: readonly T[] | PromiseLike<readonly T[]>;
  try {
    result = loader(
      toLoad.map(([slot]) => slot.input),
      ctx,
    );
  } catch (error) {
    fail(error);
    return;
  }
  Promise.resolve(result).then((loaded) => {
    if (!Array.isArray(loaded) || loaded.length !== count) {
      fail(
        new CacheError(
          'INVALID_VALUE',
          `the batch loader returned ${Array.isArray(loaded) ? `${loaded.length} values` : 'no array'} for ${count} keys`,
        ),
      );
      return;
    }
    settle(loaded);
  }, fail);
}

/** The distinct slots of `keys` (a key given twice is read, loaded and answered once) and each position's slot. */
export function slotsOf<T>(
  inputs: readonly KeyInput[],
  keys: readonly CacheKey[],
  traceOf: (key: CacheKey) => OperationContext | undefined,
): { slots: Slot<T>[]; positions: Slot<T>[] } {
  const byCanonical = new Map<string, Slot<T>>();
  const slots: Slot<T>[] = [];
  const positions = keys.map((key, i) => {
    let slot = byCanonical.get(key.canonical);
    if (slot === undefined) {
      slot = { key, input: inputs[i] as KeyInput, trace: traceOf(key), info: {} };
      byCanonical.set(key.canonical, slot);
      slots.push(slot);
    }
    return slot;
  });
  return { slots, positions };
}

export type { Slot };
