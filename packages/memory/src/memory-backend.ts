import {
  type BackendCapabilities,
  type BackendLabel,
  type BatchDelete,
  type BatchEntry,
  type BatchRead,
  type BatchWrite,
  batchError,
  type CacheBackend,
  CacheError,
  type CacheKey,
  type CacheValue,
  canonicalPrefix,
  DeleteStatus,
  type ReadInfo,
} from '@cache/core';
import { type MemoryBackendOptions, resolveOptions } from './options.js';
import { Entry, NEVER, SieveQueue } from './sieve.js';
import { defaultSizeOf } from './size-of.js';

/** A global of every supported runtime (Node 17+, browsers) that the ES library typings do not declare. */
declare const structuredClone: <T>(value: T) => T;

const CAPABILITIES: BackendCapabilities = Object.freeze({ expiryPrecisionMs: 0, losslessKeys: true });
const DELETED_ONE = DeleteStatus.deleted(1);

/** Entries checked for expiry per `set` while some entry has an expiry: a full pass every `size / 2` writes. */
const SWEEP_STEP = 2;
/** Initial length of the expiry array; it doubles as needed, up to `maxEntries`. */
const INITIAL_SLOTS = 1024;

function cloneIn(value: CacheValue<unknown>, key: CacheKey, label: BackendLabel): CacheValue<unknown> {
  try {
    return value.withData(structuredClone(value.data));
  } catch (error) {
    throw CacheError.wrap(error, 'INVALID_VALUE', `backend "${label}" cannot clone the value`, {
      key: key.canonical,
      backend: label,
      operation: 'set',
    });
  }
}

/**
 * A bounded in-process cache with SIEVE eviction. It answers synchronously: a hit is a map lookup, one
 * expiry comparison (reading the clock only when the entry has an expiry) and one bit set.
 * Create it with {@link memoryBackend}.
 */
export class MemoryBackend implements CacheBackend {
  /** Name in reports, errors and `ReadInfo.source`. */
  readonly label: BackendLabel;
  /** Exact expiry, keys compared by their canonical string. */
  readonly capabilities: BackendCapabilities = CAPABILITIES;
  readonly #map = new Map<string, Entry>();
  readonly #queue = new SieveQueue();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #sizeOf: ((value: CacheValue<unknown>, key: CacheKey) => number) | undefined;
  readonly #clone: boolean;
  readonly #now: () => number;
  /** Expiry instant of each entry by `Entry.slot` ({@link NEVER} for none): unboxed doubles, one array. */
  #expires: Float64Array;
  /** Slots of removed entries, reused before new ones. */
  readonly #freeSlots: number[] = [];
  /** Slots handed out so far, free ones included. */
  #slotsUsed = 0;
  #bytes = 0;
  /** How many entries have an expiry: while 0, writes neither read the clock nor sweep. */
  #expiring = 0;

  /** Use {@link memoryBackend}. */
  constructor(options: MemoryBackendOptions) {
    const resolved = resolveOptions(options);
    this.label = resolved.label;
    this.#maxEntries = resolved.maxEntries;
    this.#maxBytes = resolved.maxBytes;
    this.#sizeOf = resolved.sizeOf ?? (options.maxBytes === undefined ? undefined : defaultSizeOf);
    this.#clone = resolved.clone;
    this.#now = resolved.now;
    this.#expires = new Float64Array(Math.min(INITIAL_SLOTS, this.#maxEntries));
  }

  /** Number of entries held, including expired ones not yet removed (they go on access, eviction or sweep). */
  get size(): number {
    return this.#map.size;
  }

  /** Total `sizeOf` of the entries held; always 0 without `maxBytes`. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The value at `key`, or `undefined` when absent or expired (an expired entry is removed). Synchronous. */
  get<T>(key: CacheKey, info?: ReadInfo): CacheValue<T> | undefined {
    const entry = this.#map.get(key.canonical);
    if (entry === undefined) return undefined;
    if (entry.hasExpiry && this.#expires[entry.slot]! <= this.#now()) {
      this.#remove(entry);
      return undefined;
    }
    entry.visited = true;
    if (info !== undefined) info.source = this.label;
    const value = entry.value as CacheValue<T>;
    return this.#clone ? value.withData(structuredClone(value.data)) : value;
  }

  /**
   * Stores `value` at `key`, replacing the entry and all its metadata. A value that has already expired, or
   * whose size alone exceeds `maxBytes`, is not stored and removes the old entry. May evict other entries.
   */
  set<T>(key: CacheKey, value: CacheValue<T>): void {
    let now = Number.NEGATIVE_INFINITY;
    if (value.expire !== undefined || this.#expiring > 0) {
      now = this.#now();
      if (value.expire !== undefined && value.expire <= now) {
        this.#removeKey(key.canonical);
        return;
      }
    }
    const stored = this.#clone ? cloneIn(value, key, this.label) : (value as CacheValue<unknown>);
    let size = 0;
    if (this.#sizeOf !== undefined) {
      size = this.#measure(stored, key);
      if (size > this.#maxBytes) {
        this.#removeKey(key.canonical);
        return;
      }
    }
    let entry = this.#map.get(key.canonical);
    if (entry === undefined) {
      // Evict before inserting, so the new entry is never its own victim; reuse the last victim's node.
      let spare: Entry | undefined;
      while (
        this.#map.size > 0 &&
        (this.#map.size >= this.#maxEntries || this.#bytes + size > this.#maxBytes)
      ) {
        spare = this.#queue.victim(now, null, this.#expires);
        this.#remove(spare);
      }
      const slot = this.#allocateSlot();
      entry =
        spare === undefined
          ? new Entry(key.canonical, stored, size, slot)
          : spare.reuse(key.canonical, stored, size, slot);
      this.#map.set(entry.key, entry);
      this.#queue.push(entry);
      this.#bytes += size;
    } else {
      // An overwrite replaces value and metadata, and counts as a use. Only a larger size can need evictions.
      if (entry.hasExpiry) this.#expiring--;
      this.#bytes += size - entry.size;
      entry.value = stored;
      entry.size = size;
      entry.visited = true;
    }
    entry.hasExpiry = stored.expire !== undefined;
    this.#expires[entry.slot] = stored.expire ?? NEVER;
    if (entry.hasExpiry) this.#expiring++;
    while (this.#bytes > this.#maxBytes && this.#map.size > 1) {
      this.#remove(this.#queue.victim(now, entry, this.#expires));
    }
    if (this.#expiring > 0) this.#sweep(now);
  }

  /** Removes the entry at `key`: `deleted` (count 1) if it held a live value, `missing` otherwise. */
  delete(key: CacheKey): DeleteStatus {
    const entry = this.#map.get(key.canonical);
    if (entry === undefined) return DeleteStatus.missing;
    const expired = entry.hasExpiry && this.#expires[entry.slot]! <= this.#now();
    this.#remove(entry);
    return expired ? DeleteStatus.missing : DELETED_ONE;
  }

  /**
   * Reads every key, synchronously: one position per key, in order (a key given twice is answered twice).
   * `infos[i].source` is set on a hit of `keys[i]`. Never throws for a key: an invalid one is a `CacheError` in
   * its position.
   */
  getMany<T>(keys: readonly CacheKey[], infos?: readonly ReadInfo[]): BatchRead<T>[] {
    const results = new Array<BatchRead<T>>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      try {
        results[i] = this.get<T>(keys[i] as CacheKey, infos?.[i]);
      } catch (error) {
        results[i] = batchError(error, this.label, 'get', keys[i]);
      }
    }
    return results;
  }

  /**
   * Stores every entry, synchronously and in order, so the last entry of a repeated key wins. A value that
   * cannot be cloned or measured fails in its position only; every position of a key reports its last write.
   */
  setMany<T>(entries: readonly BatchEntry<T>[]): BatchWrite[] {
    const outcomes = new Array<BatchWrite>(entries.length).fill(undefined);
    let failures = false;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as BatchEntry<T>;
      try {
        this.set(entry.key, entry.value);
      } catch (error) {
        outcomes[i] = batchError(error, this.label, 'set', entry?.key);
        failures = true;
      }
    }
    if (!failures) return outcomes;
    // Every position of a key reports the outcome of its last write.
    const name = (i: number): string => (entries[i] as BatchEntry<T> | undefined)?.key?.canonical ?? `#${i}`;
    const last = new Map<string, BatchWrite>();
    for (let i = 0; i < entries.length; i++) last.set(name(i), outcomes[i]);
    return outcomes.map((_, i) => last.get(name(i)));
  }

  /** Removes every key, synchronously and in order: a key given twice reports `missing` the second time. */
  deleteMany(keys: readonly CacheKey[]): BatchDelete[] {
    const statuses = new Array<BatchDelete>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      try {
        statuses[i] = this.delete(keys[i] as CacheKey);
      } catch (error) {
        statuses[i] = batchError(error, this.label, 'delete', keys[i]);
      }
    }
    return statuses;
  }

  /** Removes every entry. */
  clear(): void {
    this.#map.clear();
    this.#queue.clear();
    this.#freeSlots.length = 0;
    this.#slotsUsed = 0;
    this.#bytes = 0;
    this.#expiring = 0;
  }

  /**
   * Removes every entry whose key prefix starts with `prefix` (`""`: every entry), in one pass over the
   * cache; for `@cache/cache`'s `clear()` of a namespace.
   */
  clearPrefix(prefix: string): Promise<void> {
    if (prefix === '') {
      this.clear();
      return Promise.resolve();
    }
    const head = canonicalPrefix(prefix);
    for (const [canonical, entry] of this.#map) {
      if (canonical.startsWith(head)) this.#remove(entry);
    }
    return Promise.resolve();
  }

  /** Removes every expired entry now, in one pass over the cache, and returns how many it removed. */
  purgeExpired(): number {
    if (this.#expiring === 0) return 0;
    const now = this.#now();
    let removed = 0;
    for (const entry of this.#queue.entries()) {
      if (this.#expires[entry.slot]! <= now) {
        this.#remove(entry);
        removed++;
      }
    }
    return removed;
  }

  /** Empties the cache. There are no timers or connections; the backend stays usable afterwards. */
  close(): Promise<void> {
    this.clear();
    return Promise.resolve();
  }

  #measure(value: CacheValue<unknown>, key: CacheKey): number {
    let size: number;
    try {
      size = this.#sizeOf!(value, key);
    } catch (error) {
      throw CacheError.wrap(error, 'INVALID_VALUE', `sizeOf failed in backend "${this.label}"`, {
        key: key.canonical,
        backend: this.label,
        operation: 'set',
      });
    }
    if (typeof size !== 'number' || !Number.isFinite(size) || size < 0) {
      throw new CacheError('INVALID_VALUE', `sizeOf must return a finite number >= 0, got ${String(size)}`, {
        key: key.canonical,
        backend: this.label,
        operation: 'set',
      });
    }
    return size;
  }

  #sweep(now: number): void {
    for (let i = 0; i < SWEEP_STEP; i++) {
      const entry = this.#queue.nextToSweep();
      if (entry === null) return;
      if (this.#expires[entry.slot]! <= now) this.#remove(entry);
    }
  }

  #removeKey(canonical: string): void {
    const entry = this.#map.get(canonical);
    if (entry !== undefined) this.#remove(entry);
  }

  #remove(entry: Entry): void {
    this.#map.delete(entry.key);
    this.#queue.unlink(entry);
    // Reset on empty, so rounding in fractional sizes cannot accumulate.
    this.#bytes = this.#map.size === 0 ? 0 : this.#bytes - entry.size;
    if (entry.hasExpiry) this.#expiring--;
    this.#freeSlots.push(entry.slot);
  }

  #allocateSlot(): number {
    const free = this.#freeSlots.pop();
    if (free !== undefined) return free;
    if (this.#slotsUsed === this.#expires.length) {
      const grown = new Float64Array(Math.min(this.#expires.length * 2, this.#maxEntries));
      grown.set(this.#expires);
      this.#expires = grown;
    }
    return this.#slotsUsed++;
  }
}

/**
 * Creates a bounded in-process backend. Pass `maxEntries`, `maxBytes` or both; anything else throws
 * `CacheError` `INVALID_OPTIONS`.
 *
 * @example
 * const memory = memoryBackend({ maxEntries: 10_000 });
 * memory.set(CacheKey.of('user', '42'), CacheValue.fromTtl(user, { ttlMs: 60_000 }));
 * memory.get<User>(CacheKey.of('user', '42'))?.data;
 */
export function memoryBackend(options: MemoryBackendOptions): MemoryBackend {
  return new MemoryBackend(options);
}
