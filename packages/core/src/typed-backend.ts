import type { Backend, CacheBackend, ReadInfo } from './backend.js';
import type { BackendLabel } from './backend-label.js';
import {
  type BatchDelete,
  type BatchEntry,
  type BatchRead,
  type BatchWrite,
  batchError,
  checkEntries,
  deleteEach,
  distinctKeys,
  getEach,
  lastEntries,
  setEach,
  spreadDeletes,
} from './batch.js';
import type { CacheKey } from './cache-key.js';
import { CacheValue } from './cache-value.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, overLimit } from './compressor.js';
import type { DeleteStatus } from './delete-status.js';
import { CacheError, type CacheOperation } from './errors.js';

const noop = (): void => undefined;
const NO_BYTES = new Uint8Array(0);

/** Options of the typed layer. */
export interface TypedLayerOptions {
  /**
   * Largest payload, in bytes after decompression, that `get` accepts; larger entries fail with
   * `DECOMPRESS_LIMIT` before they are deserialized, whatever the compressor (none included). The stored bytes
   * themselves have already been read by the backend by then.
   * @default 67108864 (64 MiB)
   */
  readonly maxDecompressedBytes?: number;
  /** Clock in Unix milliseconds, for tests. @default Date.now */
  readonly now?: () => number;
}

function failure(
  error: unknown,
  code: 'SERIALIZE' | 'COMPRESS' | 'DECOMPRESS' | 'DESERIALIZE',
  what: string,
  backend: Backend,
  key: CacheKey,
  operation: CacheOperation,
): CacheError {
  return CacheError.wrap(error, code, `${what} failed in backend "${backend.label}"`, {
    key: key.canonical,
    backend: backend.label,
    operation,
  });
}

/**
 * Serializes and compresses `value.data` with the backend's format and compressor, keeping expire and stale.
 * The bytes stored are `compress(serialize(data))`, as in hitbox: no header inside the payload.
 */
export function encodeValue<T>(
  backend: Backend,
  key: CacheKey,
  value: CacheValue<T>,
): CacheValue<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = backend.valueFormat.serialize(value.data);
  } catch (error) {
    throw failure(
      error,
      'SERIALIZE',
      `serializing with format "${backend.valueFormat.id}"`,
      backend,
      key,
      'set',
    );
  }
  try {
    bytes = backend.compressor.compress(bytes);
  } catch (error) {
    throw failure(error, 'COMPRESS', `compressing with "${backend.compressor.id}"`, backend, key, 'set');
  }
  return value.withData(bytes);
}

/**
 * Reverses {@link encodeValue}: decompresses (bounded by `maxDecompressedBytes`), then deserializes. The bound is
 * checked here too, before deserializing, so it holds with a compressor that ignores its limit: the deserializer
 * (which can take several times the payload in memory) never sees more than `maxDecompressedBytes`.
 */
export function decodeValue<T>(
  backend: Backend,
  key: CacheKey,
  raw: CacheValue<Uint8Array>,
  maxDecompressedBytes: number = DEFAULT_MAX_DECOMPRESSED_BYTES,
): CacheValue<T> {
  let bytes: Uint8Array;
  try {
    bytes = backend.compressor.decompress(raw.data, maxDecompressedBytes);
    if (bytes.byteLength > maxDecompressedBytes) throw overLimit(bytes.byteLength, maxDecompressedBytes);
  } catch (error) {
    throw failure(error, 'DECOMPRESS', `decompressing with "${backend.compressor.id}"`, backend, key, 'get');
  }
  let data: unknown;
  try {
    data = backend.valueFormat.deserialize(bytes);
  } catch (error) {
    throw failure(
      error,
      'DESERIALIZE',
      `deserializing with format "${backend.valueFormat.id}"`,
      backend,
      key,
      'get',
    );
  }
  return raw.withData(data as T);
}

/**
 * The typed level over a raw {@link Backend}: `set` serializes then compresses then writes, carrying expire and
 * stale as metadata beside the bytes; `get` reverses it and never returns an expired value. Byte-storing
 * backends (Redis) extend this class; any raw backend can be wrapped with {@link toCacheBackend}.
 */
export abstract class TypedBackend implements CacheBackend {
  /** Name in reports and errors. */
  abstract readonly label: BackendLabel;
  readonly #maxDecompressedBytes: number;
  readonly #now: () => number;

  constructor(options: TypedLayerOptions = {}) {
    const max = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
    if (!Number.isSafeInteger(max) || max <= 0) {
      throw new CacheError('INVALID_OPTIONS', 'maxDecompressedBytes must be a positive integer');
    }
    this.#maxDecompressedBytes = max;
    this.#now = options.now ?? Date.now;
  }

  /** The raw backend the typed methods run on. */
  protected abstract get raw(): Backend;

  /** The clock given in the options, in Unix milliseconds: subclasses use it so tests control one clock. */
  protected now(): number {
    return this.#now();
  }

  /**
   * Reads, decompresses and deserializes the value at `key`. Expired entries are misses. Written as one promise
   * chain rather than an async function: this is the hot path of every byte-storing backend.
   */
  get<T>(key: CacheKey, info?: ReadInfo): Promise<CacheValue<T> | undefined> {
    let pending: Promise<CacheValue<Uint8Array> | undefined>;
    try {
      pending = this.raw.read(key);
    } catch (error) {
      return Promise.reject(error);
    }
    return pending.then((raw) => {
      if (raw === undefined || raw.isExpired(this.#now())) return undefined;
      const value = decodeValue<T>(this.raw, key, raw, this.#maxDecompressedBytes);
      if (info !== undefined) info.source = this.label;
      return value;
    });
  }

  /** Serializes, compresses and writes `value`. An already expired value removes the entry instead. */
  set<T>(key: CacheKey, value: CacheValue<T>): Promise<void> {
    try {
      if (value.isExpired(this.#now())) return this.raw.remove(key).then(noop);
      return this.raw.write(key, encodeValue(this.raw, key, value));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Removes the entry at `key`. */
  delete(key: CacheKey): Promise<DeleteStatus> {
    return this.raw.remove(key);
  }

  /**
   * Reads every key with the raw level's `readMany` (one round trip on Redis), or one `read` per key when it
   * has none, then decodes each hit. One position per key (see `CacheBackend.getMany`): an entry that cannot be
   * decoded is a `CacheError` in its position only.
   */
  getMany<T>(keys: readonly CacheKey[], infos?: readonly ReadInfo[]): Promise<BatchRead<T>[]> {
    const raw = this.raw;
    if (typeof raw.readMany !== 'function') return Promise.resolve(getEach<T>(this, keys, infos));
    const { keys: distinct, slots } = distinctKeys(keys);
    let pending: Promise<BatchRead<Uint8Array>[]>;
    try {
      pending = raw.readMany(distinct);
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.then(
      (read) => {
        if (!Array.isArray(read) || read.length !== distinct.length) {
          const error = new CacheError(
            'PROTOCOL',
            `readMany of "${this.label}" answered the wrong number of entries`,
          );
          return keys.map((key) => batchError(error, this.label, 'get', key));
        }
        const now = this.#now();
        const decoded = read.map((result, i): BatchRead<T> => {
          if (result === undefined || CacheError.is(result)) return result;
          if (!(result instanceof CacheValue) && !isValueLike(result)) {
            return batchError(
              new CacheError('PROTOCOL', 'readMany answered something that is not a value'),
              this.label,
              'get',
              distinct[i],
            );
          }
          if (result.isExpired(now)) return undefined;
          try {
            return decodeValue<T>(raw, distinct[i] as CacheKey, result, this.#maxDecompressedBytes);
          } catch (error) {
            return batchError(error, this.label, 'get', distinct[i]);
          }
        });
        const results = slots.map((slot) => decoded[slot]);
        if (infos !== undefined) {
          results.forEach((result, i) => {
            const info = infos[i];
            if (info !== undefined && result !== undefined && !CacheError.is(result))
              info.source = this.label;
          });
        }
        return results;
      },
      (error: unknown) => keys.map((key) => batchError(error, this.label, 'get', key)),
    );
  }

  /**
   * Encodes every entry and writes them with the raw level's `writeMany` (one round trip on Redis), or one
   * `write` per key when it has none. The last entry of a repeated key wins. An entry that cannot be encoded
   * fails in its position only; an already expired one removes the entry.
   */
  setMany<T>(entries: readonly BatchEntry<T>[]): Promise<BatchWrite[]> {
    const raw = this.raw;
    try {
      checkEntries(entries, this.label);
    } catch (error) {
      return Promise.reject(error);
    }
    if (typeof raw.writeMany !== 'function') return Promise.resolve(setEach(this, entries));
    const { last, slots } = lastEntries(entries);
    const now = this.#now();
    const outcomes = new Array<BatchWrite>(last.length).fill(undefined);
    const encoded: BatchEntry<Uint8Array>[] = [];
    const positions: number[] = [];
    last.forEach((entry, i) => {
      try {
        const value = entry.value.isExpired(now)
          ? entry.value.withData(NO_BYTES)
          : encodeValue(raw, entry.key, entry.value);
        encoded.push({ key: entry.key, value });
        positions.push(i);
      } catch (error) {
        outcomes[i] = batchError(error, this.label, 'set', entry.key);
      }
    });
    const spread = (): BatchWrite[] => slots.map((slot) => outcomes[slot]);
    if (encoded.length === 0) return Promise.resolve(spread());
    let pending: Promise<BatchWrite[]>;
    try {
      pending = raw.writeMany(encoded);
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.then(
      (written) => {
        positions.forEach((at, i) => {
          const outcome = written[i];
          outcomes[at] = CacheError.is(outcome) ? outcome : undefined;
        });
        return spread();
      },
      (error: unknown) => {
        positions.forEach((at, i) => {
          outcomes[at] = batchError(error, this.label, 'set', encoded[i]?.key);
        });
        return spread();
      },
    );
  }

  /** Removes every key with the raw level's `removeMany`, or one `remove` per key when it has none. */
  deleteMany(keys: readonly CacheKey[]): Promise<BatchDelete[]> {
    const raw = this.raw;
    if (typeof raw.removeMany !== 'function') return Promise.resolve(deleteEach(this, keys));
    const { keys: distinct, slots } = distinctKeys(keys);
    let pending: Promise<BatchDelete[]>;
    try {
      pending = raw.removeMany(distinct);
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.then(
      (deleted) => spreadDeletes(deleted, slots),
      (error: unknown) => keys.map((key) => batchError(error, this.label, 'delete', key)),
    );
  }
}

/** A value from another copy of this package: not an instance of our CacheValue, with its methods. */
function isValueLike(value: unknown): value is CacheValue<Uint8Array> {
  return typeof (value as CacheValue<Uint8Array>).isExpired === 'function';
}

class WrappedBackend extends TypedBackend {
  readonly #backend: Backend;
  readonly label: BackendLabel;

  constructor(backend: Backend, options: TypedLayerOptions) {
    super(options);
    this.#backend = backend;
    this.label = backend.label;
  }

  protected get raw(): Backend {
    return this.#backend;
  }

  close(): Promise<void> {
    return this.#backend.close?.() ?? Promise.resolve();
  }
}

/** The typed level over any raw backend. Closing it closes the raw backend. */
export function toCacheBackend(backend: Backend, options: TypedLayerOptions = {}): CacheBackend {
  return new WrappedBackend(backend, options);
}
