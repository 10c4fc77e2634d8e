import type { Backend, CacheBackend, ReadInfo } from './backend.js';
import type { BackendLabel } from './backend-label.js';
import type { CacheKey } from './cache-key.js';
import type { CacheValue } from './cache-value.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, overLimit } from './compressor.js';
import type { DeleteStatus } from './delete-status.js';
import { CacheError, type CacheOperation } from './errors.js';

const noop = (): void => undefined;

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
