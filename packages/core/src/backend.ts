import type { Awaitable } from './awaitable.js';
import type { BackendLabel } from './backend-label.js';
import type { BatchDelete, BatchEntry, BatchRead, BatchWrite } from './batch.js';
import type { CacheKey } from './cache-key.js';
import type { CacheValue } from './cache-value.js';
import type { Compressor } from './compressor.js';
import type { DeleteStatus } from './delete-status.js';
import type { Format } from './format.js';
import type { KeyFormat } from './key-format/key-format.js';

/**
 * The raw level of a byte-storing backend, as in hitbox: it stores already serialized and compressed bytes with
 * their expire and stale instants beside them. Users call the typed level ({@link CacheBackend}); see
 * `toCacheBackend` for the layer that connects the two.
 *
 * Guarantees every implementation gives:
 * - bytes round-trip exactly (all 256 byte values, any length up to the declared maximum);
 * - `stale` round-trips to the millisecond, `expire` within `capabilities.expiryPrecisionMs`;
 * - a write replaces the whole entry: no metadata of an older write survives;
 * - an expired entry is never returned by `read`, and is eventually removed from the store.
 */
export interface Backend {
  /** Name in reports and errors. */
  readonly label: BackendLabel;
  /** The format the typed level serializes data with. */
  readonly valueFormat: Format;
  /** How keys become store keys. */
  readonly keyFormat: KeyFormat;
  /** The compressor applied after serialization. */
  readonly compressor: Compressor;
  /** Reads the entry at `key`, or `undefined` when there is none or it has expired. */
  read(key: CacheKey): Promise<CacheValue<Uint8Array> | undefined>;
  /** Replaces the entry at `key`. A value that has already expired removes the entry instead. */
  write(key: CacheKey, value: CacheValue<Uint8Array>): Promise<void>;
  /** Removes the entry at `key`. */
  remove(key: CacheKey): Promise<DeleteStatus>;
  /**
   * Optional: reads every key in one round trip where the store allows it; one position per key, in order, as
   * {@link CacheBackend.getMany} describes. `TypedBackend.getMany` uses it, else one `read` per key.
   */
  readMany?(keys: readonly CacheKey[]): Promise<BatchRead<Uint8Array>[]>;
  /** Optional: writes every entry (the last entry of a repeated key wins); see {@link CacheBackend.setMany}. */
  writeMany?(entries: readonly BatchEntry<Uint8Array>[]): Promise<BatchWrite[]>;
  /** Optional: removes every key; see {@link CacheBackend.deleteMany}. */
  removeMany?(keys: readonly CacheKey[]): Promise<BatchDelete[]>;
  /** Releases connections and timers the backend owns. */
  close?(): Promise<void>;
}

/**
 * Filled in by a backend's `get` on a hit, for callers that want to know where a value came from.
 * Compositions report a label path such as `"cache.memory"` or `"outer.inner.redis"`.
 */
export interface ReadInfo {
  /** Label path of the backend that produced the hit. Left untouched on a miss. */
  source?: BackendLabel;
}

/**
 * The typed level that users and compositions call. Methods may answer synchronously (the memory backend does,
 * so a hit costs no `await`) or with a promise: callers of this interface `await` the result.
 *
 * Guarantees: an expired value is never returned; `set` replaces the whole entry including its metadata, and
 * a value that has already expired removes the entry; `delete` reports how many entries it removed.
 */
export interface CacheBackend {
  /** Name in reports and errors. */
  readonly label: BackendLabel;
  /** Reads the value at `key`. On a hit, sets `info.source` when `info` is given. */
  get<T>(key: CacheKey, info?: ReadInfo): Awaitable<CacheValue<T> | undefined>;
  /** Stores `value` at `key`, replacing any entry there. */
  set<T>(key: CacheKey, value: CacheValue<T>): Awaitable<void>;
  /** Removes the entry at `key`. */
  delete(key: CacheKey): Awaitable<DeleteStatus>;
  /**
   * Optional: reads every key, in one round trip where the store allows it. The result has one position per
   * key, in order, each holding what `get` of that key would have given: the value, `undefined` for a miss, or
   * the `CacheError` that `get` would have rejected with (see `BatchRead`), so one unreadable entry never hides
   * the others. A key given twice is answered in both positions. `infos[i].source` is set on a hit of `keys[i]`.
   * May answer synchronously. Callers should go through the `getMany(backend, keys)` helper, which falls back to
   * one `get` per key for a backend without this method, and turns a rejection of the whole call into that
   * error in every position.
   */
  getMany?<T>(keys: readonly CacheKey[], infos?: readonly ReadInfo[]): Awaitable<BatchRead<T>[]>;
  /**
   * Optional: stores every entry, each replacing the whole entry at its key as `set` does. One position per
   * entry, `undefined` when stored, else the error `set` would have rejected with. When a key is given more than
   * once the last entry wins, as sequential `set`s would, and each of its positions reports that write. Use it
   * through the `setMany(backend, entries)` helper.
   */
  setMany?<T>(entries: readonly BatchEntry<T>[]): Awaitable<BatchWrite[]>;
  /**
   * Optional: removes every key. One position per key: the `DeleteStatus` `delete` would have given, or its
   * error. A key given more than once is deleted once: its first position reports the status, later ones
   * `missing`, as sequential `delete`s would. Use it through the `deleteMany(backend, keys)` helper.
   */
  deleteMany?(keys: readonly CacheKey[]): Awaitable<BatchDelete[]>;
  /**
   * Optional: removes every entry whose key prefix (`CacheKey.prefix`) starts with `prefix`; `""` removes
   * every entry the backend holds (within its own namespace, for a shared store). Resolves once they are gone
   * from every tier it owns; rejects when a tier may still serve one. `@cache/cache` needs it for `clear()`.
   */
  clearPrefix?(prefix: string): Promise<void>;
  /** Releases connections and timers the backend owns. */
  close?(): Promise<void>;
}

/**
 * The start of the canonical string (`CacheKey.canonical`) of every key whose prefix starts with `prefix`:
 * JSON escapes character by character, so a prefix of the text gives a prefix of the canonical string.
 */
export function canonicalPrefix(prefix: string): string {
  return `[${JSON.stringify(prefix).slice(0, -1)}`;
}

/** What a backend promises, declared to the conformance suite and to compositions. */
export interface BackendCapabilities {
  /** Largest error, in milliseconds, between the `expire` written and the one read back (0 for memory). */
  readonly expiryPrecisionMs: number;
  /** Largest value, in serialized bytes, the backend accepts; `undefined` for no limit of its own. */
  readonly maxValueBytes?: number;
  /** False when distinct keys may share one entry (see `KeyFormat.lossless`). */
  readonly losslessKeys: boolean;
}
