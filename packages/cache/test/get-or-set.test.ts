import { CacheError, CacheKey } from '@cache/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clockedCache, countingLoader, observed } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('getOrSet: misses, hits and the stored lifetimes', () => {
  it('runs the loader on a miss, stores stale = now + ttlMs and expire = now + ttlMs + graceMs', async () => {
    const { cache, memory } = clockedCache({ ttlMs: 1_000, graceMs: 5_000 });
    const loader = countingLoader('v');
    const now = Date.now();
    expect(await cache.getOrSet('a', loader)).toBe('v');
    await vi.advanceTimersByTimeAsync(0);
    const stored = memory.get<string>(cache.key('a'));
    expect(stored).toBeDefined();
    expect((stored as { stale: number }).stale).toBe(now + 1_000);
    expect((stored as { expire: number }).expire).toBe(now + 6_000);
  });

  it('answers a fresh hit without calling the loader, and counts it with its tier', async () => {
    const { cache } = clockedCache();
    const loader = countingLoader(1);
    await cache.getOrSet('a', loader);
    await cache.getOrSet('a', loader);
    await cache.getOrSet('a', loader);
    expect(loader.calls).toBe(1);
    const stats = cache.stats();
    expect(stats.hits).toBe(2);
    expect(stats.misses).toBe(1);
    expect(stats.hitsBySource).toEqual({ memory: 2 });
  });

  it('ttlMs: Infinity stores a value that never turns stale nor expires', async () => {
    const { cache, memory } = clockedCache();
    await cache.getOrSet('a', () => 1, { ttlMs: Number.POSITIVE_INFINITY });
    await vi.advanceTimersByTimeAsync(0);
    const stored = memory.get(cache.key('a'));
    expect(stored?.expire).toBeUndefined();
    expect(stored?.stale).toBeUndefined();
  });

  it('a value past ttlMs with no grace is gone: the loader runs again', async () => {
    const { cache, advance } = clockedCache({ ttlMs: 1_000 });
    const loader = countingLoader((n) => n);
    expect(await cache.getOrSet('a', loader)).toBe(1);
    await advance(1_000);
    expect(await cache.getOrSet('a', loader)).toBe(2);
  });

  it('rejects invalid options and keys with typed errors', async () => {
    const { cache } = clockedCache();
    await expect(cache.getOrSet('a', () => 1, { ttlMs: -1 })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    await expect(cache.getOrSet('a', () => 1, { stalePolicy: 'nope' as 'return' })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    await expect(cache.getOrSet(42 as unknown as string, () => 1)).rejects.toMatchObject({
      code: 'INVALID_KEY',
    });
    await expect(cache.getOrSet('\ud800', () => 1)).rejects.toMatchObject({ code: 'INVALID_KEY' });
  });
});

describe('getOrSet: one loader per key at a time', () => {
  it('200 concurrent callers of a cold key run the loader once and all get its value', async () => {
    const { cache, advance } = clockedCache();
    const loader = countingLoader('db', 50);
    const callers = Array.from({ length: 200 }, () => cache.getOrSet('cold', loader));
    await advance(50);
    expect(await Promise.all(callers)).toEqual(Array(200).fill('db'));
    expect(loader.calls).toBe(1);
    expect(cache.stats().collapsed).toBe(199);
  });

  it('different keys load in parallel, one loader each', async () => {
    const { cache, advance } = clockedCache();
    const loader = vi.fn(async (ctx: { key: CacheKey }) => ctx.key.parts[0]?.name);
    const all = ['a', 'b', 'c', 'a', 'b', 'c'].map((k) => cache.getOrSet(k, loader));
    await advance(0);
    expect(await Promise.all(all)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(loader).toHaveBeenCalledTimes(3);
  });

  it('serves the loaded value to callers arriving while its write is still under way', async () => {
    const { cache, store, advance } = clockedCache();
    store.inject({ kind: 'delay', ms: 1_000 }, ['set']);
    const loader = countingLoader('v');
    expect(await cache.getOrSet('a', loader)).toBe('v');
    // The write has not landed yet; a second caller must neither run the loader again nor miss.
    expect(await cache.getOrSet('a', loader)).toBe('v');
    expect(await cache.get('a')).toBe('v');
    expect(loader.calls).toBe(1);
    await advance(1_000);
    expect(await cache.get('a')).toBe('v');
  });

  it('a write that hangs serves the loaded value for fallbackTtlMs only, then callers load again', async () => {
    const { cache, store, advance } = clockedCache({ fallbackTtlMs: 500 });
    store.inject({ kind: 'hang' }, ['set']);
    const loader = countingLoader((n) => n);
    expect(await cache.getOrSet('a', loader)).toBe(1);
    await advance(499);
    expect(await cache.getOrSet('a', loader)).toBe(1);
    await advance(1);
    expect(await cache.getOrSet('a', loader)).toBe(2);
    expect(loader.calls).toBe(2);
    store.heal();
  });

  it('a synchronous throw rejects every caller with LOADER_FAILED and leaves nothing in flight', async () => {
    const { cache } = clockedCache();
    const boom = new Error('db down');
    let calls = 0;
    const loader = () => {
      calls++;
      throw boom;
    };
    const [a, b] = [observed(cache.getOrSet('k', loader)), observed(cache.getOrSet('k', loader))];
    await expect(a).rejects.toMatchObject({ code: 'LOADER_FAILED', cause: boom });
    await expect(b).rejects.toMatchObject({ code: 'LOADER_FAILED', cause: boom });
    expect(calls).toBe(1);
    // Had the in-flight entry leaked, this call would join it instead of running the loader.
    expect(await cache.getOrSet('k', () => 'ok')).toBe('ok');
  });

  it('a rejection leaves nothing in flight', async () => {
    const { cache } = clockedCache();
    await expect(cache.getOrSet('k', () => Promise.reject(new Error('no')))).rejects.toMatchObject({
      code: 'LOADER_FAILED',
    });
    expect(await cache.getOrSet('k', () => 'ok')).toBe('ok');
  });

  it('a hanging loader is cut by the hard timeout: LOADER_TIMEOUT, its signal aborted, nothing left in flight', async () => {
    const { cache, advance, ofType } = clockedCache({ hardTimeoutMs: 1_000 });
    let signal: AbortSignal | undefined;
    const hung = observed(
      cache.getOrSet('k', (ctx) => {
        signal = ctx.signal;
        return new Promise<string>(() => undefined);
      }),
    );
    await advance(1_000);
    await expect(hung).rejects.toMatchObject({ code: 'LOADER_TIMEOUT' });
    expect(signal?.aborted).toBe(true);
    expect(CacheError.is(signal?.reason, 'LOADER_TIMEOUT')).toBe(true);
    expect(ofType('loader-timeout')).toEqual([
      { type: 'loader-timeout', key: cache.key('k').canonical, kind: 'hard' },
    ]);
    expect(await cache.getOrSet('k', () => 'ok')).toBe('ok');
    expect(cache.stats().hardTimeouts).toBe(1);
  });

  it('a waiter past lockTimeoutMs gets LOCK_TIMEOUT while the leader still gets the value', async () => {
    const { cache, advance } = clockedCache({ lockTimeoutMs: 100 });
    const loader = countingLoader('v', 500);
    const leader = cache.getOrSet('k', loader);
    const waiter = observed(cache.getOrSet('k', loader));
    await advance(100);
    await expect(waiter).rejects.toMatchObject({ code: 'LOCK_TIMEOUT' });
    await advance(400);
    expect(await leader).toBe('v');
    expect(loader.calls).toBe(1);
  });
});

describe('loader context', () => {
  it('skip() returns the value without storing it', async () => {
    const { cache } = clockedCache();
    expect(
      await cache.getOrSet('k', (ctx) => {
        ctx.skip();
        return 'error page';
      }),
    ).toBe('error page');
    await vi.advanceTimersByTimeAsync(0);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('setOptions() sets the lifetimes of the value being loaded', async () => {
    const { cache, memory } = clockedCache({ ttlMs: 1_000 });
    const now = Date.now();
    await cache.getOrSet('k', (ctx) => {
      ctx.setOptions({ ttlMs: 10, graceMs: 20 });
      return 1;
    });
    await vi.advanceTimersByTimeAsync(0);
    const stored = memory.get(cache.key('k'));
    expect([stored?.stale, stored?.expire]).toEqual([now + 10, now + 30]);
  });

  it('gives the loader the key, and the previous value while one is kept', async () => {
    const { cache, advance } = clockedCache({ ttlMs: 100, graceMs: 1_000, stalePolicy: 'inline' });
    const seen: unknown[] = [];
    const loader = (ctx: { key: CacheKey; stale: number | undefined }) => {
      seen.push([ctx.key.parts[0]?.name, ctx.stale]);
      return (ctx.stale ?? 0) + 1;
    };
    await cache.getOrSet('k', loader);
    await advance(150);
    expect(await cache.getOrSet('k', loader)).toBe(2);
    expect(seen).toEqual([
      ['k', undefined],
      ['k', 1],
    ]);
  });
});

describe('wrap and namespaces', () => {
  it('wrap memoizes a function by the key built from its arguments', async () => {
    const { cache } = clockedCache();
    const fetchUser = vi.fn(async (id: number, _lang: string) => ({ id }));
    const cached = cache.wrap(fetchUser, { key: (id) => `user:${id}`, ttlMs: 5_000 });
    expect(await cached(1, 'en')).toEqual({ id: 1 });
    expect(await cached(1, 'fr')).toEqual({ id: 1 });
    expect(await cached(2, 'en')).toEqual({ id: 2 });
    expect(fetchUser).toHaveBeenCalledTimes(2);
    expect(() => cache.wrap(fetchUser, { key: (id) => `${id}`, ttlMs: -5 })).toThrow(CacheError);
  });

  it('namespaces prefix keys, share the store and keep keys apart', async () => {
    const { cache } = clockedCache({ namespace: 'app' });
    const users = cache.namespace('users');
    expect(users.prefix).toBe('app:users:');
    expect(users.key('42').prefix).toBe('app:users:');
    expect(cache.key({ user: '42' })).toEqual(CacheKey.from({ user: '42' }, { prefix: 'app:' }));
    expect(cache.key(CacheKey.of('x', null, { prefix: 'p:' })).prefix).toBe('app:p:');
    await users.set('42', 'ann');
    expect(await users.get('42')).toBe('ann');
    expect(await cache.get('42')).toBeUndefined();
    expect(cache.stats().hits).toBe(1);
  });

  it('string keys are remembered: the same CacheKey object is reused', () => {
    const { cache } = clockedCache();
    expect(cache.key('hot')).toBe(cache.key('hot'));
  });
});

describe('set, get and delete', () => {
  it('get returns fresh values, misses stale ones unless allowStale', async () => {
    const { cache, advance } = clockedCache({ ttlMs: 100, graceMs: 1_000 });
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v');
    await advance(100);
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.get('k', { allowStale: true })).toBe('v');
    await advance(1_000);
    expect(await cache.get('k', { allowStale: true })).toBeUndefined();
  });

  it('a set during a load wins: the load result is returned to its callers but not stored', async () => {
    const { cache, advance } = clockedCache();
    const loading = cache.getOrSet('k', countingLoader('old', 100));
    await cache.set('k', 'new');
    await advance(100);
    expect(await loading).toBe('old');
    await advance(0);
    expect(await cache.get('k')).toBe('new');
  });

  it('a delete during a load wins too', async () => {
    const { cache, advance } = clockedCache();
    const loading = cache.getOrSet('k', countingLoader('old', 100));
    expect(await cache.delete('k')).toBe(false);
    await advance(100);
    await loading;
    await advance(0);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('delete reports whether an entry was removed', async () => {
    const { cache } = clockedCache();
    await cache.set('k', 1);
    expect(await cache.delete('k')).toBe(true);
    expect(await cache.delete('k')).toBe(false);
  });
});

describe('close', () => {
  it('aborts loaders in flight, rejects their callers and later calls with CLOSED, and drops their results', async () => {
    const { cache, advance, memory } = clockedCache({ hardTimeoutMs: 60_000 });
    let signal: AbortSignal | undefined;
    const loading = observed(
      cache.getOrSet('k', async (ctx) => {
        signal = ctx.signal;
        await new Promise((r) => setTimeout(r, 100));
        return 1;
      }),
    );
    await advance(0);
    await cache.close();
    expect(signal?.aborted).toBe(true);
    await expect(loading).rejects.toMatchObject({ code: 'CLOSED' });
    expect(vi.getTimerCount()).toBe(1); // the loader's own sleep; the hard timeout timer is gone
    await advance(100);
    expect(memory.size).toBe(0);
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(cache.getOrSet('k', () => 1)).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
