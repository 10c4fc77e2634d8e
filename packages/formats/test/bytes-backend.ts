import {
  type Backend,
  bitcode,
  type CacheKey,
  CacheValue,
  type Compressor,
  DeleteStatus,
  type Format,
  type KeyFormat,
} from '@cache/core';

/** What a byte store keeps for one key: the pipeline's bytes and the metadata beside them. */
export type StoredEntry = CacheValue<Uint8Array>;

/**
 * A raw backend that keeps bytes in a Map, as a byte store such as Redis would: it never sees data, only
 * `compress(serialize(data))`. Stores copies, honours expiry, and lets several backends share one store so that
 * a reader configured differently from the writer can be tested.
 */
export class MapBytesBackend implements Backend {
  readonly label: string;
  readonly keyFormat: KeyFormat = bitcode;
  readonly valueFormat: Format;
  readonly compressor: Compressor;
  readonly store: Map<string, StoredEntry>;

  constructor(
    valueFormat: Format,
    compressor: Compressor,
    store = new Map<string, StoredEntry>(),
    label = 'bytes',
  ) {
    this.valueFormat = valueFormat;
    this.compressor = compressor;
    this.store = store;
    this.label = label;
  }

  /** The store key: the key's bitcode bytes as a hex string. */
  storeKey(key: CacheKey): string {
    return Buffer.from(this.keyFormat.encode(key)).toString('hex');
  }

  async read(key: CacheKey): Promise<CacheValue<Uint8Array> | undefined> {
    const storeKey = this.storeKey(key);
    const entry = this.store.get(storeKey);
    if (entry === undefined) return undefined;
    if (entry.isExpired()) {
      this.store.delete(storeKey);
      return undefined;
    }
    return new CacheValue(entry.data.slice(), entry.expire, entry.stale);
  }

  async write(key: CacheKey, value: CacheValue<Uint8Array>): Promise<void> {
    const storeKey = this.storeKey(key);
    if (value.isExpired()) this.store.delete(storeKey);
    else this.store.set(storeKey, new CacheValue(value.data.slice(), value.expire, value.stale));
  }

  async remove(key: CacheKey): Promise<DeleteStatus> {
    return this.store.delete(this.storeKey(key)) ? DeleteStatus.deleted(1) : DeleteStatus.missing;
  }
}
