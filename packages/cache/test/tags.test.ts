// Passive tags over memory (fake clock): invalidateTags stops every tier and every cache sharing the store from
// serving what was written before it, as fresh, stale (bentocache #71), fail-safe, in-flight or outage
// fallback value; 'expire' mode allows stale serving; lookups are deduplicated and cached for tagCacheMs.
import { type CacheBackend, CacheError, CacheKey, faulty } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../src/index.js';
import { clockedCache, countingLoader } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('tags: set, getOrSet, invalidateTags', () => {
  it('an invalidated tag removes its entries from get and getOrSet; other tags and untagged entries stay', async () => {
    const { cache } = clockedCache();
    await cache.set('u1', 'alice', { tags: ['user:1'] });
    await cache.set('u2', 'bob', { tags: ['user:2'] });
    await cache.set('plain', 'p');
    await cache.getOrSet('posts:1', () => ['post'], { tags: ['user:1', 'posts'] });
    await cache.invalidateTags(['user:1']);
    expect(await cache.get('u1')).toBeUndefined();
    expect(await cache.get('u2')).toBe('bob');
    expect(await cache.get('plain')).toBe('p');
    const loader = countingLoader(['reloaded']);
    expect(await cache.getOrSet('posts:1', loader, { tags: ['user:1', 'posts'] })).toEqual(['reloaded']);
    expect(loader.calls).toBe(1);
    // the reloaded entry, written after the invalidation, is served again
    expect(await cache.getOrSet('posts:1', loader, { tags: ['user:1', 'posts'] })).toEqual(['reloaded']);
    expect(loader.calls).toBe(1);
  });

  it('an entry read many times (its verdict remembered) is still gone right after its tag is invalidated', async () => {
    const { cache } = clockedCache({ graceMs: 60_000 });
    await cache.set('k', 'v', { tags: ['t', 'u'] });
    for (let i = 0; i < 5; i++)
      expect(await cache.getOrSet('k', () => 'loaded', { tags: ['t', 'u'] })).toBe('v');
    await cache.invalidateTags(['u']);
    expect(await cache.get('k', { allowStale: true })).toBeUndefined();
    expect(await cache.getOrSet('k', () => 'loaded', { tags: ['t', 'u'] })).toBe('loaded');
  });

  it('tags chosen by the loader (ctx.setOptions) count as tags given to getOrSet', async () => {
    const { cache } = clockedCache();
    await cache.getOrSet('k', (ctx) => {
      ctx.setOptions({ tags: ['from-loader'], ttlMs: 5_000 });
      return 'v';
    });
    expect(await cache.get('k')).toBe('v');
    await cache.invalidateTags(['from-loader']);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('untagged entries are stored as they are (no envelope); tagged ones carry their tags and expire by maxTaggedLifetimeMs', async () => {
    const { cache, memory } = clockedCache({ maxTaggedLifetimeMs: 10_000 });
    await cache.set('plain', { a: 1 }, { ttlMs: Number.POSITIVE_INFINITY });
    expect(memory.get(cache.key('plain'))?.data).toEqual({ a: 1 });
    await cache.set('tagged', { a: 1 }, { ttlMs: Number.POSITIVE_INFINITY, tags: ['t'] });
    const stored = memory.get<Record<string, unknown>>(cache.key('tagged'));
    expect(stored?.data['@cache/tags']).toEqual(['t']);
    expect(stored?.expire).toBe(Date.now() + 10_000);
  });

  it('namespaces share the tags of their cache', async () => {
    const { cache } = clockedCache({ namespace: 'app' });
    const users = cache.namespace('users');
    await users.set('1', 'alice', { tags: ['org:9'] });
    await cache.namespace('orgs').invalidateTags(['org:9']);
    expect(await users.get('1')).toBeUndefined();
  });

  it('bad tags are INVALID_OPTIONS', async () => {
    const { cache } = clockedCache();
    await expect(cache.set('k', 1, { tags: [''] })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(cache.invalidateTags('t' as unknown as string[])).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    await expect(cache.invalidateTags(['t'], { mode: 'soft' as 'expire' })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
  });

  it('clear() leaves the tag instants: an entry invalidated before it stays invalidated', async () => {
    const { cache, memory } = clockedCache({ namespace: 'app' });
    await cache.set('k', 1, { tags: ['t'] });
    await cache.invalidateTags(['t']);
    await cache.clear();
    const instant = memory.get(new CacheKey('@tags:app:', 0, [{ name: 'deleted', value: 't' }]));
    expect(instant?.data).toBe(Date.now());
  });
});

describe('tags and stale values (bentocache #71)', () => {
  it('an invalidated entry within its grace window is not served stale: the caller waits for the loader', async () => {
    const { cache, advance } = clockedCache({ ttlMs: 1_000, graceMs: 60_000 });
    await cache.getOrSet('k', () => 'old', { tags: ['t'] });
    await advance(2_000); // stale, within grace
    await cache.invalidateTags(['t']);
    const loader = countingLoader('new');
    expect(await cache.getOrSet('k', loader, { tags: ['t'] })).toBe('new');
    expect(loader.calls).toBe(1);
    expect(cache.stats().staleHits).toBe(0);
    expect(await cache.get('k', { allowStale: true })).toBe('new');
  });

  it('nor as a fail-safe value when the loader fails', async () => {
    const { cache, advance } = clockedCache({ ttlMs: 1_000, graceMs: 60_000, stalePolicy: 'inline' });
    await cache.set('k', 'old', { tags: ['t'] });
    await advance(2_000);
    await cache.invalidateTags(['t']);
    const error = await cache
      .getOrSet('k', () => Promise.reject(new Error('db down')), { tags: ['t'] })
      .catch((e: unknown) => e);
    expect(CacheError.is(error, 'LOADER_FAILED')).toBe(true);
    expect(cache.stats().failSafe).toBe(0);
  });

  it('nor when the invalidation comes while the loader runs and the loader then fails', async () => {
    const { cache, advance } = clockedCache({ ttlMs: 1_000, graceMs: 60_000, stalePolicy: 'inline' });
    await cache.set('k', 'old', { tags: ['t'] });
    await advance(2_000);
    const pending = cache
      .getOrSet(
        'k',
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          throw new Error('db down');
        },
        { tags: ['t'] },
      )
      .catch((e: unknown) => e);
    await advance(10);
    await cache.invalidateTags(['t']);
    await advance(100);
    expect(CacheError.is(await pending, 'LOADER_FAILED')).toBe(true);
  });

  it('nor after a soft timeout when the invalidation came while the caller waited', async () => {
    const { cache, advance } = clockedCache({ ttlMs: 1_000, graceMs: 60_000, stalePolicy: 'inline' });
    await cache.set('k', 'old', { tags: ['t'] });
    await advance(2_000);
    const pending = cache.getOrSet('k', countingLoader('new', 500), { tags: ['t'], softTimeoutMs: 100 });
    await advance(50);
    await cache.invalidateTags(['t']);
    await advance(500);
    expect(await pending).toBe('new');
  });

  it("mode 'expire' turns entries stale instead: served stale within grace and refreshed", async () => {
    const { cache, settle } = clockedCache({ ttlMs: 60_000, graceMs: 60_000 });
    await cache.set('k', 'old', { tags: ['t'] });
    await cache.set('no-grace', 'x', { tags: ['t'], graceMs: 0 });
    await cache.invalidateTags(['t'], { mode: 'expire' });
    const loader = countingLoader('new');
    expect(await cache.getOrSet('k', loader, { tags: ['t'] })).toBe('old');
    await settle();
    expect(loader.calls).toBe(1);
    expect(await cache.get('k')).toBe('new');
    expect(await cache.get('no-grace', { allowStale: true })).toBeUndefined();
  });
});

describe('tags and values held in process memory', () => {
  it('a load under way for an invalidated tag does not store its result', async () => {
    const { cache, advance } = clockedCache();
    const pending = cache.getOrSet('k', countingLoader('old', 100), { tags: ['t'] });
    await advance(10);
    await cache.invalidateTags(['t']);
    await advance(100);
    expect(await pending).toBe('old');
    expect(await cache.get('k')).toBeUndefined();
  });

  it('a value kept for an outage (the store refused the write) is not served after its tag is invalidated', async () => {
    const { cache, store } = clockedCache();
    store.inject({ kind: 'fail', error: new CacheError('CONNECTION', 'down') }, ['set', 'get']);
    expect(await cache.getOrSet('k', () => 'v', { tags: ['t'] })).toBe('v');
    const cached = countingLoader('again');
    // kept for the outage: served without the loader
    await cache.getOrSet('k', cached, { tags: ['t'] });
    expect(cached.calls).toBe(0);
    // the store is down: the invalidation cannot be stored (it rejects), but this process stops at once
    await expect(cache.invalidateTags(['t'])).rejects.toBeInstanceOf(CacheError);
    expect(await cache.getOrSet('k', cached, { tags: ['t'] })).toBe('again');
    expect(cached.calls).toBe(1);
  });
});

describe('tags across caches sharing a store (as processes would)', () => {
  function twoCaches(tagCacheMs: number) {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const memory = memoryBackend({ maxEntries: 1_000, now: Date.now });
    const store = faulty(memory as CacheBackend);
    const a = createCache({ store, now: Date.now, tagCacheMs, namespace: 'n' });
    const b = createCache({ store, now: Date.now, tagCacheMs, namespace: 'n' });
    return { a, b, store };
  }

  it('another cache stops serving within tagCacheMs of the invalidation', async () => {
    const { a, b } = twoCaches(1_000);
    await a.set('k', 'old', { tags: ['t'] });
    expect(await b.get('k')).toBe('old'); // b now trusts t's instants for 1 s
    await vi.advanceTimersByTimeAsync(1);
    await a.invalidateTags(['t']);
    expect(await a.get('k')).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await b.get('k')).toBeUndefined();
  });

  it('a cache that keeps reading (its trust renewed by the change token) still stops within tagCacheMs', async () => {
    const { a, b } = twoCaches(1_000);
    await a.setMany([
      { key: 'k', value: 'old', tags: ['t'] },
      { key: 'other', value: 'x', tags: ['u'] },
    ]);
    const seen: [number, unknown][] = [];
    let invalidatedAt = 0;
    for (let ms = 0; ms <= 4_000; ms += 50) {
      if (ms === 2_000) {
        await a.invalidateTags(['t']);
        invalidatedAt = Date.now();
      }
      seen.push([Date.now(), await b.get('k')]);
      expect(await b.get('other')).toBe('x'); // untouched by the invalidation
      await vi.advanceTimersByTimeAsync(50);
    }
    const before = seen.filter(([at]) => at < invalidatedAt);
    const after = seen.filter(([at]) => at >= invalidatedAt + 1_000);
    expect(before.every(([, value]) => value === 'old')).toBe(true);
    expect(after.length).toBeGreaterThan(10);
    expect(after.every(([, value]) => value === undefined)).toBe(true);
  });

  it('a reader back after a pause longer than tagCacheMs renews all its tags with one read, not one per tag', async () => {
    const { a, b, store } = twoCaches(1_000);
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    await a.setMany(keys.map((key, i) => ({ key, value: i, tags: [`tag:${i}`] })));
    // b reads every key for a while: its tags are read, then renewed under the namespace's change token.
    for (let ms = 0; ms < 1_500; ms += 100) {
      for (const key of keys) await b.get(key);
      await vi.advanceTimersByTimeAsync(100);
    }
    await vi.advanceTimersByTimeAsync(3_000); // every tag's trust has lapsed
    const before = store.calls.get;
    for (const [i, key] of keys.entries()) expect(await b.get(key)).toBe(i); // one at a time
    expect(store.calls.get - before).toBe(keys.length + 1); // the 50 entries, and one token read
  });

  it('with tagCacheMs: 0, at once', async () => {
    const { a, b } = twoCaches(0);
    await a.set('k', 'old', { tags: ['t'] });
    expect(await b.get('k')).toBe('old');
    await vi.advanceTimersByTimeAsync(1);
    await a.invalidateTags(['t']);
    expect(await b.get('k')).toBeUndefined();
  });

  it('tag lookups are deduplicated: 50 concurrent reads of entries of one tag read its instants once', async () => {
    const { a, b, store } = twoCaches(1_000);
    await a.setMany(Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: i, tags: ['shared'] })));
    const before = store.calls.get;
    const batchesBefore = store.batchCalls.get;
    const values = await Promise.all(Array.from({ length: 50 }, (_, i) => b.get(`k${i}`)));
    expect(values).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // 50 entry reads + one batched read of the tag's two instants
    expect(store.calls.get - before).toBe(51);
    expect(store.batchCalls.get - batchesBefore).toBe(1);
  });
});

describe('tags with batches', () => {
  it('getOrSetMany with tags, and ctx.setOptions({ tags }, i) for one key', async () => {
    const { cache } = clockedCache();
    await cache.getOrSetMany(
      ['a', 'b'],
      (keys, ctx) => {
        ctx.setOptions({ tags: ['only-b'] }, 1);
        return keys.map(String);
      },
      { tags: ['all'] },
    );
    await cache.invalidateTags(['only-b']);
    expect(await cache.getMany(['a', 'b'])).toEqual(['a', undefined]);
    await cache.invalidateTags(['all']);
    expect(await cache.getMany(['a'])).toEqual([undefined]);
  });
});
