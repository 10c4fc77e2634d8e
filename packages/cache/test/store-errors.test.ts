import { type CacheBackend, CacheError, compose } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../src/index.js';
import { clockedCache, countingLoader } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const down = () => new CacheError('CONNECTION', 'store unreachable', { backend: 'memory' });

/** A store whose reads always fail with CONNECTION; writes and deletes reach a memory backend. */
function unreadable(): CacheBackend {
  const memory = memoryBackend({ maxEntries: 10 });
  return {
    label: 'sick',
    get: () => Promise.reject(down()),
    set: memory.set.bind(memory),
    delete: memory.delete.bind(memory),
  };
}

describe('getOrSet fails open on store errors', () => {
  it('a failed read is a miss: the loader runs (still once per key) and its value is returned', async () => {
    const { cache, store, ofType, advance } = clockedCache();
    store.inject({ kind: 'fail', error: down() }, ['get']);
    const loader = countingLoader('v', 10);
    const answers = Promise.all([cache.getOrSet('k', loader), cache.getOrSet('k', loader)]);
    await advance(10);
    expect(await answers).toEqual(['v', 'v']);
    expect(loader.calls).toBe(1);
    expect(ofType('store-error')).toMatchObject([
      { operation: 'get', error: { code: 'CONNECTION' } },
      { operation: 'get', error: { code: 'CONNECTION' } },
    ]);
  });

  it('a synchronous throw from the store is a miss too', async () => {
    const { cache, store } = clockedCache();
    store.inject({ kind: 'fail', error: down(), sync: true }, ['get', 'set']);
    expect(await cache.getOrSet('k', () => 'v')).toBe('v');
    expect(cache.stats().storeErrors).toBe(2);
  });

  it('a failed write is reported, not thrown, and the value is kept for fallbackTtlMs while the store fails', async () => {
    const { cache, store, ofType, advance } = clockedCache({ fallbackTtlMs: 1_000 });
    store.inject({ kind: 'fail', error: down() });
    const loader = countingLoader((n) => n);
    expect(await cache.getOrSet('k', loader)).toBe(1);
    await advance(0);
    expect(ofType('store-error').map((e) => e.operation)).toEqual(['get', 'set']);
    // The store is still down: requests are served from the kept value, not sent to the loader.
    for (let i = 0; i < 5; i++) expect(await cache.getOrSet('k', loader)).toBe(1);
    expect(await cache.get('k')).toBe(1);
    expect(loader.calls).toBe(1);
    expect(cache.stats().hitsBySource).toMatchObject({ fallback: 6 });
    await advance(1_000);
    expect(await cache.getOrSet('k', loader)).toBe(2);
    expect(loader.calls).toBe(2);
  });

  it('fallbackTtlMs: 0 turns the kept values off', async () => {
    const { cache, store } = clockedCache({ fallbackTtlMs: 0 });
    store.inject({ kind: 'fail', error: down() });
    const loader = countingLoader((n) => n);
    await cache.getOrSet('k', loader);
    await cache.getOrSet('k', loader);
    expect(loader.calls).toBe(2);
  });

  it('a kept value is dropped by set and delete', async () => {
    const { cache, store } = clockedCache();
    store.inject({ kind: 'fail', error: down() }, ['get', 'set']);
    await cache.getOrSet('k', () => 1);
    await expect(cache.set('k', 2)).rejects.toMatchObject({ code: 'CONNECTION' });
    const loader = countingLoader(3);
    expect(await cache.getOrSet('k', loader)).toBe(3);
  });

  it('with nobody listening, store errors are warned on the console, one line per kind per 10 s', async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const cache = createCache({
      store: unreadable(),
      fallbackTtlMs: 0,
    });
    for (let i = 0; i < 5; i++) await cache.getOrSet(`k${i}`, () => i);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain('store-error (CONNECTION)');
    await vi.advanceTimersByTimeAsync(10_000);
    await cache.getOrSet('k9', () => 9);
    expect(warn).toHaveBeenCalledTimes(2);
  });
});

describe('get, set and delete on a failing store', () => {
  it("get reports and answers a miss by default; onStoreError: 'throw' rejects", async () => {
    const { cache, store, ofType } = clockedCache();
    store.inject({ kind: 'fail', error: down() }, ['get']);
    expect(await cache.get('k')).toBeUndefined();
    expect(ofType('store-error')).toHaveLength(1);
    const strict = clockedCache({ onStoreError: 'throw' });
    strict.store.inject({ kind: 'fail', error: down() }, ['get']);
    await expect(strict.cache.get('k')).rejects.toMatchObject({ code: 'CONNECTION' });
  });

  it('set rejects: a write the caller asked for is never lost silently', async () => {
    const { cache, store } = clockedCache();
    store.inject({ kind: 'fail', error: down() }, ['set']);
    await expect(cache.set('k', 1)).rejects.toMatchObject({ code: 'CONNECTION', operation: 'set' });
  });

  it('delete rejects when a tier failed, naming that tier, since it may still serve the key', async () => {
    const l1 = memoryBackend({ maxEntries: 10, label: 'memory' });
    const l2 = memoryBackend({ maxEntries: 10, label: 'far' });
    const sickL2 = {
      label: 'far',
      get: l2.get.bind(l2),
      set: l2.set.bind(l2),
      delete: () => Promise.reject(new CacheError('TIMEOUT', 'far tier timed out', { backend: 'far' })),
    };
    const cache = createCache({ store: compose(l1, sickL2, { onError: () => undefined }) });
    await cache.set('k', 1);
    const error = await cache.delete('k').catch((e: unknown) => e);
    expect(CacheError.is(error)).toBe(true);
    expect(String((error as Error).message)).toContain('far');
  });
});

describe('error reporting with listeners of other types', () => {
  it('a listener of "hit" alone does not silence store errors: they still reach the console', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const cache = createCache({ store: unreadable() });
    const hits: unknown[] = [];
    cache.on('hit', (event) => hits.push(event));
    await cache.getOrSet('k', () => 1);
    expect(warn).toHaveBeenCalledTimes(1);
    const errors: unknown[] = [];
    cache.on('store-error', (event) => errors.push(event));
    await cache.getOrSet('k2', () => 2);
    expect(errors).toHaveLength(1);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('a throwing listener neither breaks the call nor crashes: it is logged', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const cache = createCache({ store: memoryBackend({ maxEntries: 10 }) });
    cache.on('miss', () => {
      throw new Error('listener bug');
    });
    expect(await cache.getOrSet('k', () => 1)).toBe(1);
    expect(logged).toHaveBeenCalledTimes(1);
  });
});
