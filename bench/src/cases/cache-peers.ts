/**
 * The getOrSet of each library of the cache suite, behind one small interface: built fresh, holding nothing,
 * configured as the suite's description says. Each factory writes out its own closures, so a call site in one
 * library's `getOrSet` never sees another library's types.
 */
import type { Role } from '../harness/types.js';

/** One library's `getOrSet`, ready to call. */
export interface GetOrSetClient {
  /** The value at `key`, or the loader's (stored for `ttlMs`). */
  getOrSet(key: string, loader: () => unknown): Promise<unknown>;
  /** How many loader calls the library itself counted, when it counts them (ours: `stats().loads`). */
  loads?(): number;
  close(): Promise<void>;
}

/** A library of the suite: how to make its client. */
export interface GetOrSetLibrary {
  readonly name: string;
  readonly role: Role;
  readonly note: string;
  create(options: { maxEntries: number; ttlMs: number }): Promise<GetOrSetClient>;
}

/** Ours: `createCache` over `memoryBackend`, with `graceMs` when given (a hit then reads the clock). */
export function ours(graceMs = 0): GetOrSetLibrary {
  return {
    name: graceMs === 0 ? '@cache/cache getOrSet' : '@cache/cache getOrSet, graceMs',
    role: 'ours',
    note:
      graceMs === 0
        ? '`createCache({ store: memoryBackend({ maxEntries }), ttlMs })`, defaults otherwise (no listener).'
        : `the same with \`graceMs: ${graceMs}\`: a stored value then has a stale instant before its expiry, so ` +
          'each hit reads the clock to tell fresh from stale.',
    async create({ maxEntries, ttlMs }) {
      const { createCache } = await import('@cache/cache');
      const { memoryBackend } = await import('@cache/memory');
      const cache = createCache({ store: memoryBackend({ maxEntries }), ttlMs, graceMs });
      return {
        getOrSet: (key, loader) => cache.getOrSet(key, loader),
        loads: () => cache.stats().loads,
        close: () => cache.close(),
      };
    },
  };
}

/** BentoCache with only its memory (L1) driver, storing objects (`serialize: false`). */
export const bentoCache: GetOrSetLibrary = {
  name: 'BentoCache 1.6 getOrSet',
  role: 'peer',
  note: '`bentostore().useL1Layer(memoryDriver({ maxItems, serialize: false }))`, `getOrSet({ key, factory, ttl })`.',
  async create({ maxEntries, ttlMs }) {
    const { BentoCache, bentostore } = await import('bentocache');
    const { memoryDriver } = await import('bentocache/drivers/memory');
    const bento = new BentoCache({
      default: 'memory',
      stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: maxEntries, serialize: false })) },
    });
    return {
      getOrSet: (key, loader) => bento.getOrSet({ key, factory: loader, ttl: ttlMs }),
      close: () => bento.disconnectAll(),
    };
  },
};

/** cache-manager 7 `wrap` over its default store (an in-memory Keyv). */
export const cacheManager: GetOrSetLibrary = {
  name: 'cache-manager 7 wrap',
  role: 'peer',
  note: '`createCache({ ttl })` with its default in-memory Keyv store, `wrap(key, fn, ttl)`.',
  async create({ ttlMs }) {
    const { createCache } = await import('cache-manager');
    const cache = createCache({ ttl: ttlMs });
    return {
      getOrSet: (key, loader) => cache.wrap(key, loader, ttlMs),
      close: async () => {
        await cache.disconnect();
      },
    };
  },
};

/** cacheable 2 `getOrSet` over its default primary store (Keyv on its own in-memory LRU). */
export const cacheable: GetOrSetLibrary = {
  name: 'cacheable 2 getOrSet',
  role: 'peer',
  note: '`new Cacheable({ ttl })` with its default primary (Keyv over `KeyvCacheableMemory`), `getOrSet(key, fn, { ttl })`.',
  async create({ ttlMs }) {
    const { Cacheable } = await import('cacheable');
    const cache = new Cacheable({ ttl: ttlMs });
    const options = { ttl: ttlMs };
    return {
      getOrSet: (key, loader) => cache.getOrSet(key, async () => loader(), options),
      close: () => cache.disconnect(),
    };
  },
};

/** @epic-web/cachified 5 over an lru-cache, with the adapter its README gives. */
export const cachified: GetOrSetLibrary = {
  name: '@epic-web/cachified 5',
  role: 'peer',
  note:
    '`cachified({ key, cache, getFreshValue, ttl })` with the lru-cache adapter of its README ' +
    '(`new LRUCache({ max })`, entry ttl from `totalTtl(metadata)`).',
  async create({ maxEntries, ttlMs }) {
    const { cachified: run, totalTtl } = await import('@epic-web/cachified');
    type Entry = import('@epic-web/cachified').CacheEntry;
    const { LRUCache } = await import('lru-cache');
    const lru = new LRUCache<string, Entry>({ max: maxEntries });
    const cache: import('@epic-web/cachified').Cache = {
      set(key, value) {
        const ttl = totalTtl(value?.metadata);
        const start = value?.metadata?.createdTime;
        return lru.set(key, value, ttl === Number.POSITIVE_INFINITY ? { start } : { ttl, start });
      },
      get: (key) => lru.get(key),
      delete: (key) => lru.delete(key),
    };
    return {
      getOrSet: (key, loader) => run({ key, cache, getFreshValue: loader, ttl: ttlMs }),
      close: async () => {
        lru.clear();
      },
    };
  },
};

/** The peers, in table order. */
export const PEERS: readonly GetOrSetLibrary[] = [bentoCache, cacheManager, cacheable, cachified];
