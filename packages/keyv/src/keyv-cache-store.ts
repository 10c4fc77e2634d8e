import { type CacheBackend, CacheError, type CacheKey, CacheValue } from '@cache/core';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { StoreEvents } from './events.js';
import { type KeyvCacheStoreOptions, type ResolvedKeyvCacheStoreOptions, resolveOptions } from './options.js';
import { scopePrefix, storeKey } from './scope.js';

/** One entry of {@link KeyvCacheStore.setMany}, as Keyv hands it over. */
export interface KeyvStoreEntry {
  /** The store key (with Keyv's `namespace:` start). */
  readonly key: string;
  /** What Keyv stores: a serialized string by default, the `{ value, expires }` object without a serializer. */
  readonly value: unknown;
  /** Milliseconds to live; absent for no expiry. */
  readonly ttl?: number | undefined;
}

/**
 * A Keyv store (`new Keyv({ store: new KeyvCacheStore(backend) })`) over any `@cache` backend: memory, Redis, a
 * composition of tiers, `coherentTiers`. Each `set` gives the backend an absolute expiry from Keyv's ttl, each Keyv
 * namespace is a key prefix of its own, and `clear()` is the backend's `clearPrefix` of that prefix.
 *
 * Failures reject the call. Keyv itself reports the failures of `set`, `delete`, `clear` and the batch writes on
 * its `'error'` event; `get` is the one call whose failure Keyv drops without a word, so the store emits those on
 * its own `'error'` event, which Keyv forwards.
 */
export class KeyvCacheStore extends StoreEvents implements Omit<KeyvStoreAdapter, 'setMany'> {
  /** Keyv reads `opts` (and test suites write to it); holds the resolved options. */
  readonly opts: ResolvedKeyvCacheStoreOptions & Record<string, unknown>;
  /** Set by Keyv to its namespace; each namespace is a key prefix of its own. */
  namespace?: string | undefined;
  readonly #backend: CacheBackend;
  #scopeOf: string | undefined | null = null;
  #scope = '';

  /** Wraps `backend`. Throws `INVALID_OPTIONS` on a bad option. */
  constructor(backend: CacheBackend, options?: KeyvCacheStoreOptions) {
    super();
    if (typeof backend !== 'object' || backend === null || typeof backend.get !== 'function') {
      throw new CacheError(
        'INVALID_OPTIONS',
        'KeyvCacheStore: pass a CacheBackend (memory, Redis, a composition)',
      );
    }
    this.#backend = backend;
    this.opts = { ...resolveOptions(options) };
  }

  /** The backend the store writes to. */
  get backend(): CacheBackend {
    return this.#backend;
  }

  /** The `CacheKey.prefix` of the current namespace's entries. */
  get keyPrefix(): string {
    if (this.#scopeOf !== this.namespace) {
      this.#scopeOf = this.namespace;
      this.#scope = scopePrefix(this.opts.prefix, this.namespace);
    }
    return this.#scope;
  }

  /** The cache key a Keyv store key is written under (for inspecting the backend directly). */
  cacheKey(key: string): CacheKey {
    return storeKey(this.keyPrefix, key);
  }

  /** What Keyv stored at `key`, or `undefined`. Failures are emitted on `'error'` and reject. */
  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    try {
      const hit = await this.#backend.get<StoredData<Value>>(this.cacheKey(key));
      return hit?.data;
    } catch (error) {
      this.emit('error', error);
      throw error;
    }
  }

  /** Stores `value` with an absolute expiry `ttl` milliseconds from now (none without a finite `ttl`). */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const lifetime = typeof ttl === 'number' && Number.isFinite(ttl) ? { ttlMs: ttl } : {};
    await this.#backend.set(this.cacheKey(key), CacheValue.fromTtl(value, lifetime));
    return true;
  }

  /** True when there was an entry at `key` to remove. */
  async delete(key: string): Promise<boolean> {
    return (await this.#backend.delete(this.cacheKey(key))).kind === 'deleted';
  }

  /**
   * Removes every entry of the current namespace, through the backend's `clearPrefix`; rejects with
   * `INVALID_OPTIONS` when the backend cannot clear by prefix.
   */
  async clear(): Promise<void> {
    const backend = this.#backend;
    if (typeof backend.clearPrefix !== 'function') {
      throw new CacheError(
        'INVALID_OPTIONS',
        `KeyvCacheStore: clear() needs clearPrefix, which backend "${backend.label}" does not have`,
        { backend: backend.label, operation: 'clear' },
      );
    }
    await backend.clearPrefix(this.keyPrefix);
  }

  /** True when `key` holds an unexpired entry. */
  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  /** `get` of each key, concurrently, in order. */
  getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    return Promise.all(keys.map((key) => this.get<Value>(key)));
  }

  /**
   * `set` of each entry, concurrently; one `true` per entry. Keyv 5 types a store's `setMany` as `Promise<void>`
   * but hands its answer to the caller of `keyv.setMany()`, so the store answers the `boolean[]` Keyv promises
   * (and implements `KeyvStoreAdapter` less `setMany` for that reason).
   */
  setMany(entries: ReadonlyArray<KeyvStoreEntry>): Promise<boolean[]> {
    return Promise.all(entries.map((entry) => this.set(entry.key, entry.value, entry.ttl)));
  }

  /** `delete` of each key, concurrently; true when every key had an entry (as Keyv's own fallback answers). */
  async deleteMany(keys: string[]): Promise<boolean> {
    const removed = await Promise.all(keys.map((key) => this.delete(key)));
    return removed.every(Boolean);
  }

  /** `has` of each key, concurrently, in order. */
  hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((key) => this.has(key)));
  }

  /** Closes the backend, unless `closeOnDisconnect` is off (a backend shared with others). */
  async disconnect(): Promise<void> {
    if (this.opts.closeOnDisconnect) await this.#backend.close?.();
  }
}
