import type { CacheKey } from '@cache/core';
import { type JsonDocument, jsonDocuments } from '../data/documents.js';
import type { BenchEnv, Case, Contender, Prepared, Suite } from '../harness/types.js';
import { observedCases } from './cache-observed.js';
import { type GetOrSetLibrary, ours, PEERS } from './cache-peers.js';
import { sickRedis } from './cache-sick-redis.js';
import { stampede } from './cache-stampede.js';

/** Warm keys of the hit case: a power of two, so ops pick their key with a mask. */
const KEY_COUNT = 1024;
const MASK = KEY_COUNT - 1;
const TTL_MS = 3_600_000;
const GRACE_MS = 600_000;

interface HitData {
  readonly keys: readonly string[];
  readonly docs: readonly JsonDocument[];
}

/** The loader of the timed ops: a hit never calls it, so a contender that does fails loudly. */
function noLoad(): never {
  throw new Error('the hit case called the loader: the key was not cached');
}

/** A library's getOrSet with every key loaded before timing; the timed op is a hit. */
function hitContender(library: GetOrSetLibrary, data: HitData): Contender {
  return {
    name: library.name,
    role: library.role,
    note: library.note,
    async setup(): Promise<Prepared> {
      const client = await library.create({ maxEntries: KEY_COUNT, ttlMs: TTL_MS });
      const { keys, docs } = data;
      for (let i = 0; i < KEY_COUNT; i++) {
        const doc = docs[i];
        await client.getOrSet(keys[i] as string, () => doc);
      }
      return {
        async: true,
        op: (i) => client.getOrSet(keys[i & MASK] as string, noLoad),
        teardown: () => client.close(),
      };
    },
  };
}

/** Ours, keyed by `CacheKey`s made once before timing (`cache.key(string)`): the hit path without the string memo. */
function oursByCacheKey(data: HitData): Contender {
  return {
    name: '@cache/cache getOrSet, CacheKey keys',
    role: 'ours',
    note: 'the first row keyed by the `CacheKey`s `cache.key(string)` returns, made before timing.',
    async setup(): Promise<Prepared> {
      const { createCache } = await import('@cache/cache');
      const { memoryBackend } = await import('@cache/memory');
      const cache = createCache({ store: memoryBackend({ maxEntries: KEY_COUNT }), ttlMs: TTL_MS });
      const keys = data.keys.map((key) => cache.key(key));
      const { docs } = data;
      for (let i = 0; i < KEY_COUNT; i++) {
        const doc = docs[i];
        await cache.getOrSet(keys[i] as CacheKey, () => doc);
      }
      return {
        async: true,
        op: (i) => cache.getOrSet(keys[i & MASK] as CacheKey, noLoad),
        teardown: () => cache.close(),
      };
    },
  };
}

/**
 * The reference: a bare lru-cache `get` of the same documents; as a variant, the same get returned in a resolved
 * promise and awaited, the floor of any promise-returning getOrSet.
 */
function lruCache(data: HitData, awaited: boolean): Contender {
  return {
    name: awaited ? 'lru-cache 11 get, awaited promise' : 'lru-cache 11 get',
    role: awaited ? 'variant' : 'reference',
    note: awaited
      ? '`Promise.resolve(lru.get(key))`, awaited like every getOrSet: what returning a promise costs by itself.'
      : `\`new LRUCache({ max: ${KEY_COUNT}, ttl: ${TTL_MS} })\` (default \`ttlResolution: 1\`), a plain synchronous \`get\`: no loader, no promise.`,
    async setup(): Promise<Prepared> {
      const { LRUCache } = await import('lru-cache');
      const lru = new LRUCache<string, JsonDocument>({ max: KEY_COUNT, ttl: TTL_MS });
      const { keys, docs } = data;
      for (let i = 0; i < KEY_COUNT; i++) lru.set(keys[i] as string, docs[i] as JsonDocument);
      if (awaited) return { async: true, op: (i) => Promise.resolve(lru.get(keys[i & MASK] as string)) };
      return { async: false, op: (i) => lru.get(keys[i & MASK] as string) };
    },
  };
}

function cacheCases(): Case[] {
  const docs = jsonDocuments(KEY_COUNT);
  const data: HitData = { docs, keys: docs.map((_, i) => `user:${i}:profile`) };
  return [
    {
      name: 'getOrSet hit (memory)',
      timing: { kind: 'batched' },
      expect: 'defined',
      target: { minRatio: 0.2, text: 'a getOrSet hit costs at most 5x a bare lru-cache get' },
      peerTarget: { minRatio: 20, text: 'a getOrSet hit runs at least 20x each peer' },
      contenders: [
        hitContender(ours(), data),
        hitContender(ours(GRACE_MS), data),
        oursByCacheKey(data),
        lruCache(data, false),
        lruCache(data, true),
        ...PEERS.map((peer) => hitContender(peer, data)),
      ],
    },
    ...observedCases(data),
  ];
}

/** getOrSet: hits against lru-cache and four peers, a stampede, and a frozen Redis under a memory tier. */
export const cacheSuite: Suite = {
  id: 'cache',
  title: 'getOrSet (@cache/cache)',
  description: [
    `**getOrSet hit**: ${KEY_COUNT.toLocaleString('en-US')} string keys (\`user:<i>:profile\`), each holding the`,
    'same ~1 KB JSON-like object in every library, loaded through its own getOrSet before timing, with a 1 h TTL;',
    'ops walk the keys in order and pass a loader that throws (a hit never calls it). Every getOrSet returns a',
    'promise and is awaited in turn (batched timing, one in flight); the reference is a bare synchronous',
    'lru-cache `get`. The targets compare ops/s: ours ÷ reference ≥ 0.2, and ours ÷ each peer ≥ 20.',
    'The stampede and sick-Redis tables below are not ops/s; they come from their own runs in the same process.',
  ].join(' '),
  cases: cacheCases,
  async extras(_env: BenchEnv, log) {
    return [await stampede(log), await sickRedis(log)];
  },
};
