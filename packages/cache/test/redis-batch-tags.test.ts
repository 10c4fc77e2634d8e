// Batch operations and tags over real Redis: the shared standalone server and the shared 6-node cluster (keys
// spread over every slot), each test under a unique Redis namespace, memory in front where it matters. Two
// caches with their own memory tiers over one Redis stand for two processes here; the child-process proofs
// are in two-process.test.ts.
import { randomBytes } from 'node:crypto';
import { CacheError, CacheKey, compose } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { RedisBackend } from '@cache/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { type BatchLoader, type CacheOptions, createCache } from '../src/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';
const CLUSTER_NODES = (
  process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:17000,127.0.0.1:17001,127.0.0.1:17002'
).split(',');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

type Target = 'single node' | 'cluster';

function redisFor(target: Target, namespace: string): RedisBackend {
  const redis =
    target === 'cluster'
      ? new RedisBackend({ cluster: { nodes: CLUSTER_NODES }, namespace })
      : new RedisBackend({ url: REDIS_URL, namespace });
  return redis;
}

/** A Redis namespace of its own, and a maker of caches over it (memory in front of the same Redis each time). */
function fixture(target: Target) {
  const namespace = `cache-bt:${randomBytes(4).toString('hex')}:`;
  const shared = redisFor(target, namespace);
  cleanups.push(async () => {
    await shared.clearPrefix('');
    await shared.close();
  });
  const make = (options: Partial<CacheOptions> = {}) => {
    const redis = redisFor(target, namespace);
    const memory = memoryBackend({ maxEntries: 10_000 });
    const work: Promise<unknown>[] = [];
    const cache = createCache({
      store: compose(memory, redis),
      namespace: 'app',
      waitUntil: (w) => work.push(w),
      ...options,
    });
    cleanups.push(() => cache.close());
    /** Waits for the writes after loads (they happen after the callers got their values). */
    const flush = () => Promise.all(work.splice(0)).then(() => undefined);
    return { cache, memory, redis, flush };
  };
  return { make, redis: shared };
}

const KEYS = Array.from({ length: 200 }, (_, i) => `item:${i}:${randomBytes(3).toString('hex')}`);

describe.each<Target>(['single node', 'cluster'])('over Redis (%s)', (target) => {
  it('getOrSetMany of 200 keys over every slot: one loader call; another cache (process) then reads them all from Redis', async () => {
    const { make } = fixture(target);
    const { cache: a, flush } = make();
    const calls: number[] = [];
    const loader: BatchLoader<{ id: string; bytes: Uint8Array }> = (keys) => {
      calls.push(keys.length);
      return keys.map((key) => ({ id: String(key), bytes: new Uint8Array([0, 255, keys.length % 256]) }));
    };
    const values = await a.getOrSetMany(KEYS, loader);
    expect(calls).toEqual([200]);
    expect(values.map((v) => v.id)).toEqual(KEYS);
    await flush();
    const b = make().cache;
    const again = await b.getOrSetMany(KEYS, loader);
    expect(calls).toEqual([200]);
    expect(again.map((v) => v.id)).toEqual(KEYS);
    expect(Array.from(again[7]?.bytes ?? [])).toEqual([0, 255, 200]);
    expect(b.stats().hitsBySource).toEqual({ 'cache.redis': 200 });
  });

  it('setMany, getMany and deleteMany through memory + Redis, in order, duplicates answered at each position', async () => {
    const { make } = fixture(target);
    const { cache } = make();
    await cache.setMany(KEYS.slice(0, 50).map((key, i) => ({ key, value: i })));
    const other = make().cache;
    expect(await other.getMany([KEYS[3] as string, 'nope', KEYS[3] as string, KEYS[49] as string])).toEqual([
      3,
      undefined,
      3,
      49,
    ]);
    const removed = await cache.deleteMany(KEYS.slice(0, 50));
    expect(removed.every(Boolean)).toBe(true);
    expect(await make().cache.getMany(KEYS.slice(0, 50))).toEqual(new Array(50).fill(undefined));
  });

  it('invalidateTags: another cache with a warm memory tier stops serving within tagCacheMs, never stale nor fail-safe', async () => {
    const { make } = fixture(target);
    const { cache: a, flush: flushA } = make({ tagCacheMs: 200, ttlMs: 300, graceMs: 60_000 });
    const { cache: b, flush: flushB } = make({
      tagCacheMs: 200,
      ttlMs: 300,
      graceMs: 60_000,
      stalePolicy: 'inline',
    });
    const keys = KEYS.slice(0, 20);
    await a.getOrSetMany(keys, (ks) => ks.map((k) => `old ${String(k)}`), { tags: ['catalog'] });
    await flushA();
    expect(await b.getMany(keys)).toEqual(keys.map((k) => `old ${k}`)); // b's memory tier holds them now
    await sleep(400); // stale, within grace
    await a.invalidateTags(['catalog']);
    await sleep(250); // b's trusted instants have lapsed
    const outcomes = await b.getOrSetManySettled(keys, () => Promise.reject(new Error('database down')));
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect(CacheError.is((outcome as PromiseRejectedResult).reason, 'LOADER_FAILED')).toBe(true);
    }
    expect(await b.getMany(keys, { allowStale: true })).toEqual(new Array(20).fill(undefined));
    expect(b.stats().failSafe).toBe(0);
    // New values written after the invalidation are served everywhere.
    expect(
      await b.getOrSetMany(keys, (ks) => ks.map((k) => `new ${String(k)}`), { tags: ['catalog'] }),
    ).toEqual(keys.map((k) => `new ${k}`));
    await flushB();
    expect(await a.getMany(keys.slice(0, 2))).toEqual(keys.slice(0, 2).map((k) => `new ${k}`));
  });

  it('a tagged read with the tags given reads the instants beside the entry; a second read costs no round trip', async () => {
    const { make } = fixture(target);
    const { cache } = make({ tagCacheMs: 60_000 });
    await cache.set('k', 'v', { tags: ['t1', 't2'] });
    const reader = make({ tagCacheMs: 60_000 });
    expect(await reader.cache.getOrSet('k', () => 'loaded', { tags: ['t1', 't2'] })).toBe('v');
    // now in its memory tier, with the instants trusted: answered synchronously from memory
    expect(await reader.cache.getOrSet('k', () => 'loaded', { tags: ['t1', 't2'] })).toBe('v');
    expect(reader.cache.stats().hitsBySource).toEqual({ 'cache.redis': 1, 'cache.memory': 1 });
  });

  it('tag instants live under reserved keys of the same store, expiring maxTaggedLifetimeMs after the invalidation', async () => {
    const { make, redis } = fixture(target);
    const { cache } = make({ maxTaggedLifetimeMs: 3_600_000 });
    const before = Date.now();
    await cache.invalidateTags(['user:1']);
    const stored = await redis.get<number>(
      new CacheKey('@tags:app:', 0, [{ name: 'deleted', value: 'user:1' }]),
    );
    expect(stored?.data).toBeGreaterThanOrEqual(before);
    expect(stored?.expire).toBe((stored?.data ?? 0) + 3_600_000);
  });
});
