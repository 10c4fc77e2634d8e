import type { Cache } from '@cache/cache';
import { CacheError, type CacheKey } from '@cache/core';
import { currentAgeMs, type FreshnessSettings, factsOf } from './freshness.js';
import type { ResolvedOptions } from './options.js';
import type { CacheRequest } from './policy/request.js';
import { sameResponse } from './reuse.js';
import { checkResource, type StoredResource, type StoredResponse } from './stored-response.js';
import { varyMatches } from './vary.js';

const READ = Object.freeze({ allowStale: true });

/** Resources that passed {@link checkResource} (see `ResourceStore.#checked`). */
const checked = new WeakSet<object>();

/**
 * The stored resources: one entry per key holding its variants, read as untrusted, written with a lifetime that
 * covers the longest-lived variant (fresh time, then the time it is kept stale), through `@cache/cache`.
 */
export class ResourceStore {
  readonly #cache: Cache;
  readonly #o: ResolvedOptions;
  readonly #settings: FreshnessSettings;
  readonly #onStoreError: (error: CacheError) => void;

  constructor(
    cache: Cache,
    options: ResolvedOptions,
    settings: FreshnessSettings,
    onStoreError: (error: CacheError) => void,
  ) {
    this.#cache = cache;
    this.#o = options;
    this.#settings = settings;
    this.#onStoreError = onStoreError;
  }

  /** The resource at `key`, or `undefined` (none, a store failure, or an entry that is not a stored resource). */
  read(key: CacheKey): Promise<StoredResource | undefined> {
    return this.#cache.get<unknown>(key, READ).then((value) => this.#checked(value));
  }

  /**
   * A value read from the store, checked before it is served. An object checked once is not checked again: the
   * memory tier hands out the object it holds, so only its first read (from Redis, another writer, another
   * version) pays; a copy (Redis, a cloning memory tier) is a new object and is checked.
   */
  #checked(value: unknown): StoredResource | undefined {
    if (value === undefined) return undefined;
    if (checked.has(value as object)) return value as StoredResource;
    try {
      const resource = checkResource(value);
      checked.add(resource);
      return resource;
    } catch (error) {
      this.#onStoreError(error as CacheError);
      return undefined;
    }
  }

  /**
   * Replaces the variant `request` selects with `variant` (or drops it when `variant` is undefined); true when
   * the entry was written.
   */
  async store(
    key: CacheKey,
    request: CacheRequest,
    variant: StoredResponse | undefined,
    replaced?: StoredResponse,
  ): Promise<boolean> {
    const resource = await this.read(key);
    // The variant this request selects goes (replaced by `variant`, or dropped): matched by its Vary values, since
    // an entry read back from Redis holds copies, not the objects the caller saw.
    // A stored part (206) replaces only other parts; a complete response replaces parts too.
    const others = (resource?.variants ?? []).filter(
      (v) =>
        v !== replaced &&
        !sameResponse(v, replaced) &&
        !(varyMatches(v.vary, request.headers) && (variant?.status !== 206 || v.status === 206)),
    );
    const variants = variant === undefined ? others : [variant, ...others].slice(0, this.#o.maxVariants);
    if (variants.length === 0 && resource === undefined) return false;
    return this.#write(key, variants);
  }

  /** Writes `variants` at `key` with a lifetime covering the longest-lived one; reports failures. */
  async #write(key: CacheKey, variants: StoredResponse[]): Promise<boolean> {
    const now = this.#o.now();
    let ttlMs = 0;
    let expireMs = 0;
    for (const v of variants) {
      const f = factsOf(v, this.#settings);
      const fresh = Math.max(0, f.lifetimeMs - currentAgeMs(v, f, now));
      const keep = Math.max(
        f.staleWhileRevalidateMs,
        f.staleIfErrorMs,
        f.etag !== undefined || f.lastModified !== undefined || this.#o.failSafe !== false
          ? this.#o.keepStaleMs
          : 0,
      );
      ttlMs = Math.max(ttlMs, fresh);
      expireMs = Math.max(expireMs, fresh + keep);
    }
    try {
      if (expireMs <= 0) {
        await this.#cache.delete(key);
        return false;
      }
      await this.#cache.set(key, { v: 1, variants } satisfies StoredResource, {
        ttlMs,
        graceMs: expireMs - ttlMs,
      });
      return true;
    } catch (error) {
      this.#onStoreError(
        CacheError.wrap(error, 'BACKEND', 'storing a response failed', { operation: 'set' }),
      );
      return false;
    }
  }
}
