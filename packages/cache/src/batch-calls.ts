import {
  CacheError,
  type CacheKey,
  type CacheValue,
  isPromiseLike,
  type OperationContext,
  type ReadInfo,
  type Tracing,
} from '@cache/core';
import { type BatchHost, type BatchLoader, getOrSetSlots, type Slot, slotsOf } from './batch.js';
import type { KeyInput, KeyMaker } from './keys.js';
import {
  checkLifetime,
  type GetOptions,
  type GetOrSetOptions,
  type LifetimeOptions,
  type ResolvedGetOrSetOptions,
  resolveGetOrSetOptions,
} from './options.js';
import { asCacheError } from './shared.js';
import { readMany, removeMany, writeMany } from './store-batch.js';
import { isTagged } from './tag-envelope.js';
import { operationContext, operationTracing } from './tracing.js';

/**
 * The batch calls of a `Cache` (`getMany`, `setMany`, `deleteMany`, `getOrSetMany`): each key answered as its
 * single call would be, with one batched access to the store and one decision about tracing for the whole call.
 */

/** The source of hits served from a loaded value whose write is still under way. */
const IN_FLIGHT = 'in-flight';

/** The steps of a `Cache` the batch calls are made of (its private methods, lent to this file). */
export interface BatchCallHost extends BatchHost {
  readonly keys: KeyMaker;
  getFailed<T>(key: CacheKey, error: unknown, trace: OperationContext | undefined): Promise<T | undefined>;
  answerGet<T>(
    key: CacheKey,
    value: CacheValue<T> | undefined,
    info: ReadInfo,
    options: GetOptions,
    trace: OperationContext | undefined,
  ): T | undefined;
  vetted<T, R>(
    key: CacheKey,
    value: CacheValue<unknown>,
    info: ReadInfo,
    then: (value: CacheValue<T> | undefined) => R | Promise<R>,
    failed: (error: unknown) => R | Promise<R>,
  ): R | Promise<R>;
}

/** The distinct keys of a batch call, each position's key, and the channel the call is traced on. */
interface Batch<T> {
  readonly slots: Slot<T>[];
  readonly positions: Slot<T>[];
  readonly tracing: Tracing<OperationContext> | undefined;
}

/** One entry of `Cache.setMany`: a key, its value, and lifetimes or tags of its own. */
export interface SetManyEntry<T> extends LifetimeOptions {
  readonly key: KeyInput;
  readonly value: T;
}

export function getManyCall<T>(
  host: BatchCallHost,
  inputs: readonly KeyInput[],
  options: GetOptions,
): Promise<(T | undefined)[]> {
  const s = host.shared;
  let keys: CacheKey[];
  try {
    s.rejectIfClosed();
    keys = keysOf(host, inputs, 'getMany');
  } catch (error) {
    return Promise.reject(error);
  }
  const batch = traceSlots<T | undefined>(host, inputs, keys, 'get');
  const { slots } = batch;
  const toRead: Slot<T | undefined>[] = [];
  for (const slot of slots) {
    const loaded = s.loaded(slot.key);
    if (loaded === undefined) toRead.push(slot);
    else slot.result = Promise.resolve(host.hit(slot.key, loaded.value as T, IN_FLIGHT, slot.trace));
  }
  const answer = (results: readonly (CacheValue<T> | undefined | CacheError)[]): void => {
    toRead.forEach((slot, i) => {
      const { key, trace } = slot;
      const value = results[i];
      if (value instanceof CacheError) slot.result = host.getFailed<T>(key, value, trace);
      else if (value !== undefined && isTagged(value.data)) {
        slot.result = Promise.resolve(
          host.vetted<T, T | undefined>(
            key,
            value,
            slot.info,
            (vetted) => host.answerGet(key, vetted, slot.info, options, trace),
            (error) => host.getFailed<T>(key, error, trace),
          ),
        );
      } else slot.result = Promise.resolve(host.answerGet(key, value, slot.info, options, trace));
    });
  };
  let read: ReturnType<typeof readMany<T>>;
  try {
    read = readMany<T>(
      s.store,
      toRead.map((slot) => slot.key),
      toRead.map((slot) => slot.info),
    );
  } catch (error) {
    return Promise.reject(error);
  }
  let done: Promise<void> | undefined;
  if (isPromiseLike(read)) done = Promise.resolve(read).then(answer);
  else answer(read);
  return gather(batch, done);
}
export function setManyCall<T>(
  host: BatchCallHost,
  entries: readonly SetManyEntry<T>[],
  options: LifetimeOptions,
): Promise<void> {
  const s = host.shared;
  try {
    s.rejectIfClosed();
    if (!Array.isArray(entries)) throw new CacheError('INVALID_OPTIONS', 'setMany needs an array of entries');
    const shared = checkLifetime(options, s.defaults);
    const now = s.tags.stamp();
    const batch = entries.map((entry) => {
      if (entry === null || typeof entry !== 'object') {
        throw new CacheError('INVALID_OPTIONS', 'setMany: every entry must be { key, value }');
      }
      const key = host.keys.key(entry.key);
      const lifetime = checkLifetime(entry, shared);
      const stored = s.entry(entry.value, lifetime);
      const value: CacheValue<unknown> =
        lifetime.tags === undefined ? stored : s.tags.wrap(stored, lifetime.tags, now);
      return { key, value };
    });
    s.counters.sets += batch.length;
    const keys = batch.map((entry) => entry.key);
    const written = Promise.all(keys.map((key) => s.supersede(key))).then(() => writeMany(s.store, batch));
    const traced = traceSlots<void>(host, keys, keys, 'set');
    const { positions } = traced;
    const done = written.then((outcomes) => {
      positions.forEach((slot, i) => {
        const failed = outcomes[i];
        slot.result ??=
          failed === undefined
            ? Promise.resolve()
            : Promise.reject(asCacheError(failed, 'set', s.store.label, slot.key));
      });
    });
    return gather(traced, done).then(() => undefined);
  } catch (error) {
    return Promise.reject(error);
  }
}
export function deleteManyCall(host: BatchCallHost, inputs: readonly KeyInput[]): Promise<boolean[]> {
  const s = host.shared;
  try {
    s.rejectIfClosed();
    const keys = keysOf(host, inputs, 'deleteMany');
    s.counters.deletes += keys.length;
    const batch = traceSlots<boolean>(host, inputs, keys, 'delete');
    const { slots, positions } = batch;
    const removed = Promise.all(slots.map((slot) => s.supersede(slot.key))).then(() =>
      removeMany(
        s.store,
        slots.map((slot) => slot.key),
      ),
    );
    const done = removed.then((outcomes) => {
      slots.forEach((slot, i) => {
        const outcome = outcomes[i] as boolean | CacheError;
        slot.result =
          typeof outcome === 'boolean'
            ? Promise.resolve(outcome)
            : Promise.reject(asCacheError(outcome, 'delete', s.store.label, slot.key));
      });
    });
    // A key given twice is removed once: its later positions report false, as sequential deletes would.
    const seen = new Set<Slot<boolean>>();
    return gather(batch, done).then((answers) =>
      answers.map((removedOne, i) => {
        const slot = positions[i] as Slot<boolean>;
        if (seen.has(slot)) return false;
        seen.add(slot);
        return removedOne;
      }),
    );
  } catch (error) {
    return Promise.reject(error);
  }
}
export function getOrSetManyCall<T>(
  host: BatchCallHost,
  inputs: readonly KeyInput[],
  loader: BatchLoader<T>,
  options: GetOrSetOptions | undefined,
): Promise<PromiseSettledResult<T>[]> {
  const s = host.shared;
  let keys: CacheKey[];
  let resolved: ResolvedGetOrSetOptions;
  try {
    s.rejectIfClosed();
    if (typeof loader !== 'function') throw new CacheError('INVALID_OPTIONS', 'getOrSetMany needs a loader');
    keys = keysOf(host, inputs, 'getOrSetMany');
    resolved = options === undefined ? s.defaults : resolveGetOrSetOptions(options, s.defaults);
  } catch (error) {
    return Promise.reject(error);
  }
  const batch = traceSlots<T>(host, inputs, keys, 'getOrSet');
  const { slots } = batch;
  const done = getOrSetSlots(host, slots, loader, resolved);
  return gather(batch, done, true);
}
/** The keys of a batch call, under the cache's namespace. */
function keysOf(host: BatchCallHost, inputs: readonly KeyInput[], operation: string): CacheKey[] {
  if (!Array.isArray(inputs)) throw new CacheError('INVALID_OPTIONS', `${operation} needs an array of keys`);
  return inputs.map((input) => host.keys.key(input));
}

/**
 * The distinct keys of a batch, each with the trace of its own operation when someone listens (one decision
 * for the whole batch: every key is traced, or none).
 */
function traceSlots<T>(
  host: BatchCallHost,
  inputs: readonly KeyInput[],
  keys: readonly CacheKey[],
  operation: 'get' | 'getOrSet' | 'set' | 'delete',
): { slots: Slot<T>[]; positions: Slot<T>[]; tracing: Tracing<OperationContext> | undefined } {
  const tracing = operationTracing();
  const prefix = host.keys.prefix;
  const made = slotsOf<T>(
    inputs,
    keys,
    tracing === undefined ? () => undefined : (key) => operationContext(operation, prefix, key.canonical),
  );
  return { ...made, tracing };
}

/**
 * Each position's answer once `done` has given every slot its `result`; each key is traced as its own
 * operation when someone listens. `settled`: every outcome, else the first failure rejects.
 */
function gather<T>(
  batch: Batch<T>,
  done: Promise<void> | undefined,
  settled: true,
): Promise<PromiseSettledResult<T>[]>;
function gather<T>(batch: Batch<T>, done: Promise<void> | undefined): Promise<T[]>;
function gather<T>(
  { slots, positions, tracing }: Batch<T>,
  done: Promise<void> | undefined,
  settled = false,
): Promise<T[] | PromiseSettledResult<T>[]> {
  const answers = new Map<Slot<T>, Promise<T>>();
  const ready = done ?? Promise.resolve();
  for (const slot of slots) {
    const answer = ready.then(() => slot.result as Promise<T>);
    answers.set(
      slot,
      tracing !== undefined && slot.trace !== undefined
        ? tracing.tracePromise(() => answer, slot.trace)
        : answer,
    );
  }
  const each = positions.map((slot) => answers.get(slot) as Promise<T>);
  return settled ? Promise.allSettled(each) : Promise.all(each);
}
