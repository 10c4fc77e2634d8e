import { CacheKey, CacheValue, isPromiseLike } from '@cache/core';
import { type JsonDocument, jsonDocuments } from '../data/documents.js';
import type { Case, Contender, Prepared, Suite, Target } from '../harness/types.js';

/** Entries per cache: a power of two, so ops pick their key with a mask rather than a division. */
const KEY_COUNT = 16_384;
const MASK = KEY_COUNT - 1;
const TTL_MS = 3_600_000;

const LRU_TARGET: Target = { minRatio: 0.77, text: "our get hit costs at most 1.3x lru-cache's" };

/** The same keys and values for every contender, built once, before any setup or timing. */
interface MemoryData {
  readonly docs: readonly JsonDocument[];
  readonly hitKeys: readonly CacheKey[];
  readonly missKeys: readonly CacheKey[];
  /** `hitKeys[i].canonical`: the string the string-keyed caches use for the same key. */
  readonly hitStrings: readonly string[];
  readonly missStrings: readonly string[];
  /** The documents wrapped without an expiry. */
  readonly plainValues: readonly CacheValue<JsonDocument>[];
  /** The documents wrapped with a 1 h expiry (and a 50 min stale instant). */
  readonly ttlValues: readonly CacheValue<JsonDocument>[];
}

function buildData(): MemoryData {
  const docs = jsonDocuments(KEY_COUNT);
  const options = { prefix: 'bench', version: 1 };
  const hitKeys = docs.map((_, i) => CacheKey.from({ user: String(i), view: 'profile' }, options));
  const missKeys = docs.map((_, i) => CacheKey.from({ user: String(i), view: 'absent' }, options));
  const now = Date.now();
  return {
    docs,
    hitKeys,
    missKeys,
    hitStrings: hitKeys.map((k) => k.canonical),
    missStrings: missKeys.map((k) => k.canonical),
    plainValues: docs.map((doc) => new CacheValue(doc)),
    ttlValues: docs.map((doc) => CacheValue.fromTtl(doc, { ttlMs: TTL_MS - 600_000, graceMs: 600_000 }, now)),
  };
}

type Op = 'get hit' | 'get miss' | 'set';

/** @cache/memory with every key stored, `maxEntries` equal to the key count (nothing is evicted). */
function ours(data: MemoryData, op: Op, ttl: boolean): Contender {
  return {
    name: '@cache/memory',
    role: 'ours',
    async setup(): Promise<Prepared> {
      const { memoryBackend } = await import('@cache/memory');
      const backend = memoryBackend({ maxEntries: KEY_COUNT });
      const values = ttl ? data.ttlValues : data.plainValues;
      for (let i = 0; i < KEY_COUNT; i++)
        backend.set(data.hitKeys[i] as CacheKey, values[i] as CacheValue<unknown>);
      if (isPromiseLike(backend.get(data.hitKeys[0] as CacheKey)))
        throw new Error('get is expected to be synchronous');
      const { hitKeys, missKeys } = data;
      switch (op) {
        case 'get hit':
          return { async: false, op: (i) => backend.get(hitKeys[i & MASK] as CacheKey) };
        case 'get miss':
          return { async: false, op: (i) => backend.get(missKeys[i & MASK] as CacheKey) };
        case 'set':
          return {
            async: false,
            op: (i) => backend.set(hitKeys[i & MASK] as CacheKey, values[i & MASK] as CacheValue<unknown>),
          };
      }
    },
  };
}

/**
 * A bare lru-cache holding the same CacheValue objects under the keys' canonical strings. With `exactClock`, it
 * reads the clock on every TTL check (`ttlResolution: 0`), the precision ours gives.
 */
function lruCache(data: MemoryData, op: Op, ttl: boolean, exactClock = false): Contender {
  return {
    name: exactClock ? 'lru-cache 11, ttlResolution: 0' : 'lru-cache 11',
    role: exactClock ? 'variant' : 'reference',
    note: exactClock
      ? 'the reference reading the clock on every get, as ours does: expiry exact to the millisecond.'
      : `\`new LRUCache({ max: ${KEY_COUNT} })\`, keyed by \`CacheKey.canonical\`; in the TTL cases with ` +
        `\`ttl: ${TTL_MS}\` and its default \`ttlResolution: 1\` (reads the clock at most once per ms and event-loop turn).`,
    async setup(): Promise<Prepared> {
      const { LRUCache } = await import('lru-cache');
      const lru = new LRUCache<string, CacheValue<JsonDocument>>(
        ttl ? { max: KEY_COUNT, ttl: TTL_MS, ttlResolution: exactClock ? 0 : 1 } : { max: KEY_COUNT },
      );
      const values = ttl ? data.ttlValues : data.plainValues;
      for (let i = 0; i < KEY_COUNT; i++)
        lru.set(data.hitStrings[i] as string, values[i] as CacheValue<JsonDocument>);
      const { hitStrings, missStrings } = data;
      switch (op) {
        case 'get hit':
          return { async: false, op: (i) => lru.get(hitStrings[i & MASK] as string) };
        case 'get miss':
          return { async: false, op: (i) => lru.get(missStrings[i & MASK] as string) };
        case 'set':
          return {
            async: false,
            op: (i) => lru.set(hitStrings[i & MASK] as string, values[i & MASK] as CacheValue<JsonDocument>),
          };
      }
    },
  };
}

/** BentoCache with only its memory (L1) driver, getting the raw documents. */
function bentoCache(data: MemoryData, serialize: boolean): Contender {
  return {
    name: serialize ? 'BentoCache 1.6 (memory)' : 'BentoCache 1.6 (memory, serialize: false)',
    role: 'peer',
    note: serialize
      ? '`bentostore().useL1Layer(memoryDriver({ maxItems }))`, defaults otherwise: entries stored as JSON text.'
      : 'the same with `serialize: false`: entries stored as objects, as ours are.',
    async setup(): Promise<Prepared> {
      const { BentoCache, bentostore } = await import('bentocache');
      const { memoryDriver } = await import('bentocache/drivers/memory');
      const bento = new BentoCache({
        default: 'memory',
        stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: KEY_COUNT, serialize })) },
      });
      for (let i = 0; i < KEY_COUNT; i++) {
        await bento.set({ key: data.hitStrings[i] as string, value: data.docs[i], ttl: TTL_MS });
      }
      const { hitStrings } = data;
      return {
        async: true,
        op: (i) => bento.get({ key: hitStrings[i & MASK] as string }),
        teardown: () => bento.disconnectAll(),
      };
    },
  };
}

/** cache-manager 7 with its default store (an in-memory Keyv), getting the raw documents. */
function cacheManager(data: MemoryData): Contender {
  return {
    name: 'cache-manager 7 (memory)',
    role: 'peer',
    note: '`createCache({ ttl })` with its default in-memory Keyv store.',
    async setup(): Promise<Prepared> {
      const { createCache } = await import('cache-manager');
      const cache = createCache({ ttl: TTL_MS });
      for (let i = 0; i < KEY_COUNT; i++) await cache.set(data.hitStrings[i] as string, data.docs[i]);
      const { hitStrings } = data;
      return {
        async: true,
        op: (i) => cache.get(hitStrings[i & MASK] as string),
        teardown: async () => {
          await cache.disconnect();
        },
      };
    },
  };
}

function memoryCases(): Case[] {
  const data = buildData();
  const batched = { kind: 'batched' } as const;
  return [
    {
      name: 'get hit',
      timing: batched,
      expect: 'defined',
      target: LRU_TARGET,
      contenders: [ours(data, 'get hit', false), lruCache(data, 'get hit', false)],
    },
    {
      name: 'get hit, 1 h TTL',
      timing: batched,
      expect: 'defined',
      target: LRU_TARGET,
      contenders: [
        ours(data, 'get hit', true),
        lruCache(data, 'get hit', true),
        lruCache(data, 'get hit', true, true),
        bentoCache(data, true),
        bentoCache(data, false),
        cacheManager(data),
      ],
    },
    {
      name: 'get miss',
      timing: batched,
      expect: 'undefined',
      contenders: [ours(data, 'get miss', false), lruCache(data, 'get miss', false)],
    },
    {
      name: 'set (overwrite), 1 h TTL',
      timing: batched,
      contenders: [ours(data, 'set', true), lruCache(data, 'set', true)],
    },
  ];
}

/** In-process get and set: @cache/memory against a bare lru-cache, with two popular caches as peers. */
export const memorySuite: Suite = {
  id: 'memory',
  title: 'in-process get and set',
  description: [
    `${KEY_COUNT.toLocaleString('en-US')} keys, each a \`CacheKey\` of two parts built before timing (so its`,
    'canonical string is already memoized), each holding a ~1 KB JSON-like object; every cache holds all of them',
    '(nothing is evicted). Ops walk the keys in order. "get hit" stores values without expiry; the TTL cases',
    'store values expiring in 1 h, and lru-cache gets the same `ttl`. lru-cache then reads its clock at most',
    'once per millisecond (`ttlResolution: 1`, its default); the variant row reads it on every get, as ours does',
    '(expiry exact to the millisecond), to show what that clock read costs. Sync contenders are called directly;',
    'the peers are async and each get is awaited in turn, as a caller would. The target compares ops/s, so',
    '"costs at most 1.3x" means a ratio of at least 0.77.',
  ].join(' '),
  cases: memoryCases,
};
