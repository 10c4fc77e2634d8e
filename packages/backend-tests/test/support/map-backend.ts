import {
  type Backend,
  CacheError,
  type CacheBackend,
  type CacheKey,
  CacheValue,
  DeleteStatus,
  type Format,
  type KeyFormat,
  passthrough,
  type ReadInfo,
  toCacheBackend,
  urlEncoded,
} from '@cache/core';
import { jsonOrBytes } from './test-formats.js';

/** Deliberate defects, each one a bug some real backend has had. */
export interface MapFaults {
  /** An overwrite without expire or stale keeps the old ones (hitbox's Redis HSET). */
  readonly keepOldMetadata?: boolean;
  /** Expire is dropped on write: nothing ever expires. */
  readonly dropExpire?: boolean;
  /**
   * The store's own expiry is never set: expired entries are hidden from reads by their metadata but stay
   * stored, and delete counts them (hitbox's sub-second TTL on Redis).
   */
  readonly leakExpired?: boolean;
  /** Byte 0xff is stored as 0x3f (a text encoding somewhere on the way). */
  readonly mangleFF?: boolean;
  /** The store key ignores the key version. */
  readonly ignoreVersion?: boolean;
  /** Data and metadata are written in two steps with a pause between (no transaction). */
  readonly splitWrite?: boolean;
  /** Values longer than this many stored bytes are cut to this length instead of being rejected. */
  readonly truncateAt?: number;
  /** Values over `maxBytes` are dropped without an error, leaving the previous entry in place. */
  readonly ignoreOversized?: boolean;
  /** `write` stores the whole `ArrayBuffer` under the data, not the view (`Buffer.from(data.buffer)`). */
  readonly wholeBuffer?: boolean;
}

export interface MapRawOptions {
  readonly valueFormat?: Format;
  readonly keyFormat?: KeyFormat;
  /** Stored bytes above this fail with VALUE_TOO_LARGE. */
  readonly maxBytes?: number;
  readonly faults?: MapFaults;
}

interface Entry {
  data: Uint8Array;
  expire: number | undefined;
  stale: number | undefined;
  /** When the store itself drops the entry, like a Redis key TTL; separate from the `expire` metadata. */
  storeExpire: number | undefined;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function isGone(entry: Entry): boolean {
  return entry.storeExpire !== undefined && entry.storeExpire <= Date.now();
}

/** The reference raw backend of these tests: a Map of store keys to bytes with metadata beside them. */
export class MapRawBackend implements Backend {
  readonly label = 'map';
  readonly valueFormat: Format;
  readonly keyFormat: KeyFormat;
  readonly compressor = passthrough;
  readonly #entries = new Map<string, Entry>();
  readonly #maxBytes: number | undefined;
  readonly #faults: MapFaults;
  #splitWrites = 0;

  constructor(options: MapRawOptions = {}) {
    this.valueFormat = options.valueFormat ?? jsonOrBytes;
    this.keyFormat = options.keyFormat ?? urlEncoded;
    this.#maxBytes = options.maxBytes;
    this.#faults = options.faults ?? {};
  }

  #storeKey(key: CacheKey): string {
    return hex(this.keyFormat.encode(this.#faults.ignoreVersion ? key.with({ version: 0 }) : key));
  }

  /** The entry at `key` unless the store's own expiry has dropped it (lazily, like Redis). */
  #entry(key: CacheKey): Entry | undefined {
    const storeKey = this.#storeKey(key);
    const entry = this.#entries.get(storeKey);
    if (entry !== undefined && isGone(entry)) {
      this.#entries.delete(storeKey);
      return undefined;
    }
    return entry;
  }

  /** How many entries the store holds, expired ones included. */
  get size(): number {
    return this.#entries.size;
  }

  /** True when the store holds an entry for `key`, as Redis `EXISTS` answers (the suite's `inspect.exists`). */
  has(key: CacheKey): boolean {
    return this.#entry(key) !== undefined;
  }

  async read(key: CacheKey): Promise<CacheValue<Uint8Array> | undefined> {
    const entry = this.#entry(key);
    if (entry === undefined) return undefined;
    const value = new CacheValue(entry.data.slice(), entry.expire, entry.stale);
    return value.isExpired() ? undefined : value;
  }

  async write(key: CacheKey, value: CacheValue<Uint8Array>): Promise<void> {
    const storeKey = this.#storeKey(key);
    if (value.isExpired()) {
      this.#entries.delete(storeKey);
      return;
    }
    const faults = this.#faults;
    if (this.#maxBytes !== undefined && value.data.length > this.#maxBytes) {
      if (faults.ignoreOversized) return;
      throw new CacheError(
        'VALUE_TOO_LARGE',
        `value of ${value.data.length} bytes exceeds ${this.#maxBytes}`,
        {
          backend: this.label,
          operation: 'write',
        },
      );
    }
    const given = faults.wholeBuffer ? new Uint8Array(value.data.buffer) : value.data;
    let data = given.slice(0, faults.truncateAt ?? given.length);
    if (faults.mangleFF) data = data.map((b) => (b === 0xff ? 0x3f : b));
    const old = this.#entry(key);
    let expire = faults.dropExpire ? undefined : value.expire;
    let stale = value.stale;
    if (faults.keepOldMetadata && old !== undefined) {
      expire ??= old.expire;
      stale ??= old.stale;
    }
    if (faults.splitWrite) {
      const entry = old ?? { data, expire: undefined, stale: undefined, storeExpire: undefined };
      entry.data = data;
      this.#entries.set(storeKey, entry);
      // Earlier writes pause longer, so their metadata lands after later writes' data.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 50 - this.#splitWrites++)));
      entry.expire = expire;
      entry.stale = stale;
      entry.storeExpire = expire;
      return;
    }
    this.#entries.set(storeKey, {
      data,
      expire,
      stale,
      storeExpire: faults.leakExpired ? undefined : expire,
    });
  }

  async remove(key: CacheKey): Promise<DeleteStatus> {
    if (this.#entry(key) === undefined) return DeleteStatus.missing;
    this.#entries.delete(this.#storeKey(key));
    return DeleteStatus.deleted(1);
  }
}

/** A typed backend over a {@link MapRawBackend}, with the raw one kept reachable for inspection. */
export type InspectableBackend = CacheBackend & { readonly store: MapRawBackend };

/** The reference backend: `toCacheBackend` over a Map-based raw backend. */
export function mapBackend(options: MapRawOptions = {}): InspectableBackend {
  const raw = new MapRawBackend(options);
  return Object.assign(toCacheBackend(raw), { store: raw });
}

/** Faults of the typed level. */
export interface TypedFaults {
  /** `get` returns entries whatever their expire instant. */
  readonly returnExpired?: boolean;
  /** `get` treats falsy data as a miss. */
  readonly falsyIsMiss?: boolean;
  /** `get` never fills in `info.source`. */
  readonly noSource?: boolean;
}

/**
 * A typed backend that answers synchronously (no promises), keeping values as they are, like an in-process
 * cache: the suite must `await` plain values as well as promises.
 */
export class SyncMapBackend implements CacheBackend {
  readonly label = 'sync-map';
  readonly #entries = new Map<string, CacheValue<unknown>>();
  readonly #faults: TypedFaults;

  constructor(faults: TypedFaults = {}) {
    this.#faults = faults;
  }

  get<T>(key: CacheKey, info?: ReadInfo): CacheValue<T> | undefined {
    const value = this.#entries.get(key.canonical);
    if (value === undefined) return undefined;
    if (value.isExpired() && !this.#faults.returnExpired) {
      this.#entries.delete(key.canonical);
      return undefined;
    }
    if (this.#faults.falsyIsMiss && !value.data) return undefined;
    if (info !== undefined && !this.#faults.noSource) info.source = this.label;
    return value as CacheValue<T>;
  }

  set<T>(key: CacheKey, value: CacheValue<T>): void {
    if (value.isExpired()) this.#entries.delete(key.canonical);
    else this.#entries.set(key.canonical, value);
  }

  delete(key: CacheKey): DeleteStatus {
    const value = this.#entries.get(key.canonical);
    this.#entries.delete(key.canonical);
    return value === undefined || (value.isExpired() && !this.#faults.returnExpired)
      ? DeleteStatus.missing
      : DeleteStatus.deleted(1);
  }
}

/** One shared "database" for {@link lazyTableBackend}: its table is created by the first backend that needs it. */
export interface LazyDatabase {
  table: Map<string, Entry> | undefined;
}

/**
 * A raw backend over a shared database whose table it creates lazily, checking and creating across an await
 * with no lock, the way `CREATE TABLE` on first use races between fresh backends: each one that saw no table
 * creates its own and replaces the others' (and the writes in them). Correct in every other way.
 */
class LazyTableRaw implements Backend {
  readonly label = 'lazy-table';
  readonly valueFormat = jsonOrBytes;
  readonly keyFormat = urlEncoded;
  readonly compressor = passthrough;
  readonly #db: LazyDatabase;

  constructor(db: LazyDatabase) {
    this.#db = db;
  }

  async #table(): Promise<Map<string, Entry>> {
    if (this.#db.table === undefined) {
      // The round trip of "does the table exist?", then of "create it".
      await new Promise((resolve) => setTimeout(resolve, 5));
      this.#db.table = new Map();
    }
    return this.#db.table;
  }

  async read(key: CacheKey): Promise<CacheValue<Uint8Array> | undefined> {
    const entry = (await this.#table()).get(hex(this.keyFormat.encode(key)));
    if (entry === undefined) return undefined;
    const value = new CacheValue(entry.data.slice(), entry.expire, entry.stale);
    return value.isExpired() ? undefined : value;
  }

  async write(key: CacheKey, value: CacheValue<Uint8Array>): Promise<void> {
    const table = await this.#table();
    const storeKey = hex(this.keyFormat.encode(key));
    if (value.isExpired()) table.delete(storeKey);
    else
      table.set(storeKey, {
        data: value.data.slice(),
        expire: value.expire,
        stale: value.stale,
        storeExpire: value.expire,
      });
  }

  async remove(key: CacheKey): Promise<DeleteStatus> {
    const table = await this.#table();
    const storeKey = hex(this.keyFormat.encode(key));
    const entry = table.get(storeKey);
    table.delete(storeKey);
    return entry === undefined || isGone(entry) ? DeleteStatus.missing : DeleteStatus.deleted(1);
  }
}

/** A typed backend over a {@link LazyTableRaw} on `db`: several of them race to create its table. */
export function lazyTableBackend(db: LazyDatabase): CacheBackend {
  return toCacheBackend(new LazyTableRaw(db));
}
