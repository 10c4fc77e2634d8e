// Batch operations of the cache over memory (fake clock): getMany, setMany, deleteMany and getOrSetMany with
// one loader call for the misses, joined with single-key loaders in flight, per-key failures, fail-safe and
// timeouts. The Redis variants are in redis-batch.test.ts.
import dc from 'node:diagnostics_channel';
import { CacheError, CacheKey, DIAGNOSTICS_CHANNELS, type OperationContext } from '@cache/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BatchLoader, KeyInput } from '../src/index.js';
import { clockedCache, countingLoader } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A batch loader that records each call's keys and answers `value-<key>` after `ms`. */
function recordingLoader(ms = 0) {
  const calls: KeyInput[][] = [];
  const loader: BatchLoader<string> = async (keys, ctx) => {
    calls.push(keys);
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    ctx.signal.throwIfAborted();
    return keys.map((key) => `value-${String(key)}`);
  };
  return { loader, calls };
}

describe('getMany, setMany, deleteMany', () => {
  it('setMany stores every entry with its own lifetime; getMany answers in the order of keys, misses as undefined', async () => {
    const { cache, memory, advance } = clockedCache({ namespace: 'app', ttlMs: 10_000 });
    await cache.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2, ttlMs: 1_000 },
      { key: { user: '7' }, value: 3 },
    ]);
    expect(await cache.getMany(['b', 'missing', 'a', { user: '7' }, 'a'])).toEqual([2, undefined, 1, 3, 1]);
    // namespaced: the entries live under the cache's prefix
    expect(memory.get(new CacheKey('app:', 0, [{ name: 'a', value: null }]))?.data).toBe(1);
    await advance(1_000);
    expect(await cache.getMany(['a', 'b'])).toEqual([1, undefined]);
    expect(await cache.getMany(['b'], { allowStale: true })).toEqual([undefined]);
    expect(cache.stats().sets).toBe(3);
  });

  it('getMany with allowStale returns stale values within grace', async () => {
    const { cache, advance } = clockedCache({ ttlMs: 1_000, graceMs: 5_000 });
    await cache.setMany([{ key: 'a', value: 'old' }]);
    await advance(2_000);
    expect(await cache.getMany(['a'])).toEqual([undefined]);
    expect(await cache.getMany(['a'], { allowStale: true })).toEqual(['old']);
  });

  it('deleteMany removes every key, true where an entry was removed, a repeated key once', async () => {
    const { cache } = clockedCache();
    await cache.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ]);
    expect(await cache.deleteMany(['a', 'x', 'b', 'a'])).toEqual([true, false, true, false]);
    expect(await cache.getMany(['a', 'b'])).toEqual([undefined, undefined]);
  });

  it('setMany rejects with the store failure, naming the tier; getMany reports read failures as misses', async () => {
    const { cache, store, ofType } = clockedCache();
    store.inject({ kind: 'fail', error: new CacheError('CONNECTION', 'down') }, ['set']);
    const error = await cache.setMany([{ key: 'a', value: 1 }]).catch((e: unknown) => e);
    expect(CacheError.is(error, 'CONNECTION')).toBe(true);
    store.heal();
    await cache.set('a', 1);
    store.inject({ kind: 'fail', error: new CacheError('CONNECTION', 'down') }, ['get']);
    expect(await cache.getMany(['a'])).toEqual([undefined]);
    expect(ofType('store-error').length).toBeGreaterThan(0);
  });

  it('bad input is a typed error', async () => {
    const { cache } = clockedCache();
    await expect(cache.getMany('a' as unknown as string[])).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    await expect(cache.setMany([{ key: 'a', value: 1, ttlMs: -1 }])).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    await expect(cache.deleteMany([42 as unknown as string])).rejects.toMatchObject({ code: 'INVALID_KEY' });
  });
});

describe('getOrSetMany', () => {
  it('loads every missing key in ONE loader call, keys as given, values in the order of keys', async () => {
    const { cache } = clockedCache();
    await cache.set('k3', 'stored');
    const { loader, calls } = recordingLoader();
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    const values = await cache.getOrSetMany(keys, loader);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(99);
    expect(calls[0]).not.toContain('k3');
    expect(values[3]).toBe('stored');
    expect(values[42]).toBe('value-k42');
    // stored: a second call loads nothing
    expect(await cache.getOrSetMany(keys, loader)).toEqual(values);
    expect(calls).toHaveLength(1);
    const stats = cache.stats();
    expect(stats.misses).toBe(99);
    expect(stats.loads).toBe(99); // one per key loaded, in one loader call
  });

  it('a key given twice is loaded once and answered at both positions', async () => {
    const { cache } = clockedCache();
    const { loader, calls } = recordingLoader();
    expect(await cache.getOrSetMany(['a', 'b', 'a'], loader)).toEqual(['value-a', 'value-b', 'value-a']);
    expect(calls).toEqual([['a', 'b']]);
  });

  it('joins a getOrSet in flight for a key: that key is not loaded again', async () => {
    const { cache, advance } = clockedCache();
    const single = countingLoader('from-single', 100);
    const first = cache.getOrSet('a', single);
    const { loader, calls } = recordingLoader(10);
    const batch = cache.getOrSetMany(['a', 'b'], loader);
    await advance(100);
    expect(await batch).toEqual(['from-single', 'value-b']);
    expect(await first).toBe('from-single');
    expect(single.calls).toBe(1);
    expect(calls).toEqual([['b']]);
    expect(cache.stats().collapsed).toBe(1);
  });

  it('a getOrSet arriving while a batch loads its key joins the batch run', async () => {
    const { cache, advance } = clockedCache();
    const { loader, calls } = recordingLoader(100);
    const batch = cache.getOrSetMany(['a', 'b'], loader);
    await advance(0);
    const single = countingLoader('from-single');
    const joined = cache.getOrSet('b', single);
    await advance(100);
    expect(await joined).toBe('value-b');
    expect(await batch).toEqual(['value-a', 'value-b']);
    expect(single.calls).toBe(0);
    expect(calls).toHaveLength(1);
  });

  it('ctx.fail(i) fails one key: it gets its stale value (fail-safe) or LOADER_FAILED, the others their values', async () => {
    const { cache, advance, ofType } = clockedCache({ ttlMs: 1_000, graceMs: 60_000, stalePolicy: 'inline' });
    await cache.setMany([
      { key: 'a', value: 'old-a' },
      { key: 'b', value: 'old-b' },
    ]);
    await advance(2_000); // stale
    const loader: BatchLoader<string> = (keys, ctx) => {
      ctx.fail(1, new Error('b is broken'));
      ctx.fail(2, new Error('c is broken'));
      return keys.map((key) => `new-${String(key)}`);
    };
    const outcomes = await cache.getOrSetManySettled(['a', 'b', 'c'], loader);
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: 'new-a' });
    expect(outcomes[1]).toEqual({ status: 'fulfilled', value: 'old-b' });
    expect(outcomes[2]?.status).toBe('rejected');
    const reason = (outcomes[2] as PromiseRejectedResult).reason as CacheError;
    expect(CacheError.is(reason, 'LOADER_FAILED')).toBe(true);
    expect((reason.cause as Error).message).toBe('c is broken');
    expect(ofType('fail-safe').map((e) => e.key)).toEqual([cache.key('b').canonical]);
    // getOrSetMany itself rejects with that error; the stored a is the new value, b stays stale
    const again = await cache.getOrSetMany(['a', 'c'], loader).catch((e: unknown) => e);
    expect(CacheError.is(again, 'LOADER_FAILED')).toBe(true);
    expect(await cache.get('a')).toBe('new-a');
  });

  it('a loader that throws fails every key; keys with a stale value get it (fail-safe)', async () => {
    const { cache, advance } = clockedCache({ ttlMs: 1_000, graceMs: 60_000, stalePolicy: 'inline' });
    await cache.set('a', 'old-a');
    await advance(2_000);
    const outcomes = await cache.getOrSetManySettled(['a', 'b'], () => {
      throw new Error('database down');
    });
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: 'old-a' });
    expect(CacheError.is((outcomes[1] as PromiseRejectedResult).reason, 'LOADER_FAILED')).toBe(true);
    expect(cache.stats().failSafe).toBe(1);
  });

  it('values of the wrong count fail every key with LOADER_FAILED', async () => {
    const { cache } = clockedCache();
    const error = await cache.getOrSetMany(['a', 'b'], () => ['only one']).catch((e: unknown) => e);
    expect(CacheError.is(error, 'LOADER_FAILED')).toBe(true);
    expect(CacheError.is((error as CacheError).cause, 'INVALID_VALUE')).toBe(true);
  });

  it('hardTimeoutMs: the loader signal aborts; keys get their stale value or LOADER_TIMEOUT', async () => {
    const { cache, advance } = clockedCache({ ttlMs: 1_000, graceMs: 60_000, stalePolicy: 'inline' });
    await cache.set('a', 'old-a');
    await advance(2_000);
    let signal: AbortSignal | undefined;
    const settled = cache.getOrSetManySettled(
      ['a', 'b'],
      (_keys, ctx) => {
        signal = ctx.signal;
        return new Promise<string[]>(() => undefined); // never answers
      },
      { hardTimeoutMs: 500 },
    );
    await advance(500);
    const outcomes = await settled;
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: 'old-a' });
    expect(CacheError.is((outcomes[1] as PromiseRejectedResult).reason, 'LOADER_TIMEOUT')).toBe(true);
    expect(signal?.aborted).toBe(true);
    expect(cache.stats().hardTimeouts).toBe(2);
  });

  it('softTimeoutMs: keys with a stale value answer with it, the loader goes on and its values are stored', async () => {
    const { cache, advance } = clockedCache({ ttlMs: 1_000, graceMs: 60_000, stalePolicy: 'inline' });
    await cache.set('a', 'old-a');
    await advance(2_000);
    const { loader, calls } = recordingLoader(1_000);
    const values = cache.getOrSetMany(['a'], loader, { softTimeoutMs: 100 });
    await advance(100);
    expect(await values).toEqual(['old-a']);
    await advance(1_000);
    expect(await cache.get('a')).toBe('value-a');
    expect(calls).toHaveLength(1);
  });

  it('revalidate: stale keys answer at once and are refreshed by one background loader call', async () => {
    const { cache, advance, settle } = clockedCache({ ttlMs: 1_000, graceMs: 60_000 });
    await cache.setMany([
      { key: 'a', value: 'old-a' },
      { key: 'b', value: 'old-b' },
    ]);
    await advance(2_000);
    const { loader, calls } = recordingLoader();
    expect(await cache.getOrSetMany(['a', 'b', 'c'], loader)).toEqual(['old-a', 'old-b', 'value-c']);
    await settle();
    expect(calls).toEqual([['a', 'b', 'c']]);
    expect(await cache.getMany(['a', 'b'])).toEqual(['value-a', 'value-b']);
    expect(cache.stats().refreshes).toBe(2);
  });

  it('ctx.setOptions(options, i) and ctx.skip(i) act on one key', async () => {
    const { cache, memory } = clockedCache({ ttlMs: 1_000 });
    const now = Date.now();
    await cache.getOrSetMany(['a', 'b'], (keys, ctx) => {
      ctx.setOptions({ ttlMs: 5_000 }, 0);
      ctx.skip(1);
      return keys.map(String);
    });
    expect(memory.get(cache.key('a'))?.expire).toBe(now + 5_000);
    expect(memory.get(cache.key('b'))).toBeUndefined();
  });

  it('rejects bad input with typed errors', async () => {
    const { cache } = clockedCache();
    await expect(cache.getOrSetMany(['a'], 'x' as unknown as BatchLoader<string>)).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    await expect(cache.getOrSetMany(['a'], () => ['x'], { ttlMs: -5 })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
  });

  it('close() ends a batch under way: its callers get CLOSED, its signal aborts', async () => {
    const { cache, settle } = clockedCache();
    let signal: AbortSignal | undefined;
    const pending = cache.getOrSetMany(['a', 'b'], (_keys, ctx) => {
      signal = ctx.signal;
      return new Promise<string[]>(() => undefined);
    });
    await settle();
    await cache.close();
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    expect(signal?.aborted).toBe(true);
  });
});

describe('batches on the diagnostics channel', () => {
  it('each key of a batch is traced as its single operation, with its outcome', async () => {
    const { cache } = clockedCache({ namespace: 'd' });
    await cache.set('a', 1);
    const seen: { operation: string; key: string | undefined; outcome: string | undefined }[] = [];
    const channel = dc.tracingChannel(DIAGNOSTICS_CHANNELS.operation);
    const ignore = () => undefined;
    const handlers = {
      start: ignore,
      end: ignore,
      asyncStart: ignore,
      error: ignore,
      asyncEnd: (context: object) => {
        const { operation, key, outcome } = context as OperationContext;
        seen.push({ operation, key, outcome });
      },
    };
    channel.subscribe(handlers);
    try {
      await cache.getOrSetMany(['a', 'b'], (keys) => keys.map(() => 2));
      await cache.getMany(['a', 'zz']);
      await cache.deleteMany(['a']);
    } finally {
      channel.unsubscribe(handlers);
    }
    expect(seen).toEqual([
      { operation: 'getOrSet', key: cache.key('a').canonical, outcome: 'hit' },
      { operation: 'getOrSet', key: cache.key('b').canonical, outcome: 'miss' },
      { operation: 'get', key: cache.key('a').canonical, outcome: 'hit' },
      { operation: 'get', key: cache.key('zz').canonical, outcome: 'miss' },
      { operation: 'delete', key: cache.key('a').canonical, outcome: undefined },
    ]);
  });
});
