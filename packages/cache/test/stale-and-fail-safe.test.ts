import { afterEach, describe, expect, it, vi } from 'vitest';
import { clockedCache, countingLoader, observed } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A cache holding `k` = 1, now stale (ttl 100 ms passed, grace 10 s left). */
async function withStaleValue(options: Parameters<typeof clockedCache>[0] = {}) {
  const setup = clockedCache({ ttlMs: 100, graceMs: 10_000, ...options });
  await setup.cache.set('k', 1);
  await setup.advance(100);
  return setup;
}

describe("stale policy 'revalidate' (the default)", () => {
  it('returns the stale value at once and refreshes it once in the background', async () => {
    const { cache, advance, ofType } = await withStaleValue();
    const loader = countingLoader(2, 50);
    const answers = await Promise.all([1, 2, 3].map(() => cache.getOrSet('k', loader)));
    expect(answers).toEqual([1, 1, 1]);
    expect(loader.calls).toBe(1);
    expect(ofType('stale').map((e) => e.reason)).toEqual(['revalidate', 'revalidate', 'revalidate']);
    await advance(50);
    expect(await cache.getOrSet('k', loader)).toBe(2);
    expect(cache.stats()).toMatchObject({ refreshes: 1, staleHits: 3, loads: 1 });
  });

  it('a refresh is shared with a foreground loader of the same key', async () => {
    const { cache, advance } = await withStaleValue();
    const loader = countingLoader(2, 50);
    expect(await cache.getOrSet('k', loader)).toBe(1); // starts the refresh
    const inline = cache.getOrSet('k', loader, { stalePolicy: 'inline' });
    await advance(50);
    expect(await inline).toBe(2);
    expect(loader.calls).toBe(1);
  });

  it('past maxBackgroundRefreshes a stale hit is served without a refresh, and counted', async () => {
    const { cache } = await withStaleValue({ maxBackgroundRefreshes: 0 });
    const loader = countingLoader(2, 50);
    expect(await cache.getOrSet('k', loader)).toBe(1);
    expect(loader.calls).toBe(0);
    expect(cache.stats().refreshesSkipped).toBe(1);
  });

  it('hands background work to waitUntil', async () => {
    const handed: Promise<unknown>[] = [];
    const { cache, advance } = await withStaleValue({ waitUntil: (work) => handed.push(work) });
    const before = handed.length;
    await cache.getOrSet('k', countingLoader(2, 50));
    expect(handed.length).toBe(before + 1);
    await advance(50);
    await expect(handed.at(-1)).resolves.toBeUndefined();
    expect(await cache.get('k')).toBe(2);
  });

  it('a failed refresh is reported (nobody else would see it) and backs off: the loader is not re-run per request', async () => {
    const { cache, advance, ofType } = await withStaleValue({ failSafeBackoffMs: 1_000 });
    const failing = vi.fn(() => Promise.reject(new Error('db down')));
    expect(await cache.getOrSet('k', failing)).toBe(1);
    await advance(0);
    expect(ofType('loader-error')).toMatchObject([{ background: true, error: { code: 'LOADER_FAILED' } }]);
    for (let i = 0; i < 10; i++) expect(await cache.getOrSet('k', failing)).toBe(1);
    expect(failing).toHaveBeenCalledTimes(1);
    await advance(1_000);
    expect(await cache.getOrSet('k', () => 3)).toBe(1); // backoff over: a new refresh starts
    await advance(0);
    expect(await cache.getOrSet('k', failing)).toBe(3);
  });
});

describe("stale policy 'inline'", () => {
  it('waits for the loader and returns its value, counted as a miss', async () => {
    const { cache, advance, ofType } = await withStaleValue({ stalePolicy: 'inline' });
    const answer = cache.getOrSet('k', countingLoader(2, 50));
    await advance(50);
    expect(await answer).toBe(2);
    expect(cache.stats()).toMatchObject({ misses: 1, staleHits: 0, hits: 0 });
    expect(ofType('miss')).toHaveLength(1);
  });

  it('fail-safe: a failed loader gives the stale value, and the loader is not called again during the backoff', async () => {
    const { cache, advance, ofType } = await withStaleValue({
      stalePolicy: 'inline',
      failSafeBackoffMs: 5_000,
    });
    const failing = vi.fn(() => Promise.reject(new Error('db down')));
    expect(await cache.getOrSet('k', failing)).toBe(1);
    expect(ofType('fail-safe')).toMatchObject([{ error: { code: 'LOADER_FAILED' } }]);
    await advance(4_999);
    expect(await cache.getOrSet('k', failing)).toBe(1);
    expect(failing).toHaveBeenCalledTimes(1);
    await advance(1);
    expect(await cache.getOrSet('k', () => 2)).toBe(2);
    expect(cache.stats().failSafe).toBe(2);
  });

  it('fail-safe on a hard timeout: the stale value, LOADER_TIMEOUT as the reason', async () => {
    const { cache, advance, ofType } = await withStaleValue({ stalePolicy: 'inline', hardTimeoutMs: 200 });
    const answer = cache.getOrSet('k', () => new Promise<number>(() => undefined));
    await advance(200);
    expect(await answer).toBe(1);
    expect(ofType('fail-safe')).toMatchObject([{ error: { code: 'LOADER_TIMEOUT' } }]);
  });

  it('soft timeout: the stale value after softTimeoutMs, and the loader result is stored when it comes', async () => {
    const { cache, advance, ofType } = await withStaleValue({ stalePolicy: 'inline', softTimeoutMs: 100 });
    const loader = countingLoader(2, 500);
    const answer = cache.getOrSet('k', loader);
    await advance(100);
    expect(await answer).toBe(1);
    expect(ofType('loader-timeout')).toMatchObject([{ kind: 'soft' }]);
    // While it still runs, another caller gets the stale value after its own soft timeout, no second loader.
    const second = cache.getOrSet('k', loader);
    await advance(100);
    expect(await second).toBe(1);
    await advance(300);
    expect(await cache.get('k')).toBe(2);
    expect(loader.calls).toBe(1);
    expect(cache.stats().softTimeouts).toBe(1);
  });

  it('no soft timeout without a stale value: a cold key waits for its loader', async () => {
    const { cache, advance } = clockedCache({ softTimeoutMs: 10 });
    const answer = cache.getOrSet('cold', countingLoader('v', 500));
    await advance(500);
    expect(await answer).toBe('v');
  });

  it('hard timeout with keepLateResult stores the late value', async () => {
    const { cache, advance } = clockedCache({ hardTimeoutMs: 100, keepLateResult: true });
    const answer = observed(cache.getOrSet('k', countingLoader('late', 300)));
    await advance(100);
    await expect(answer).rejects.toMatchObject({ code: 'LOADER_TIMEOUT' });
    await advance(200);
    expect(await cache.get('k')).toBe('late');
  });

  it('hard timeout without keepLateResult drops the late value', async () => {
    const { cache, advance } = clockedCache({ hardTimeoutMs: 100 });
    const answer = observed(cache.getOrSet('k', countingLoader('late', 300)));
    await advance(100);
    await expect(answer).rejects.toMatchObject({ code: 'LOADER_TIMEOUT' });
    await advance(200);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('a waiter past lockTimeoutMs gets the stale value', async () => {
    const { cache, advance, ofType } = await withStaleValue({ stalePolicy: 'inline', lockTimeoutMs: 50 });
    const loader = countingLoader(2, 500);
    const leader = cache.getOrSet('k', loader);
    const waiter = cache.getOrSet('k', loader);
    await advance(50);
    expect(await waiter).toBe(1);
    expect(ofType('stale').map((e) => e.reason)).toContain('lock-timeout');
    await advance(450);
    expect(await leader).toBe(2);
  });

  it('without a stale value a failed loader rejects with LOADER_FAILED and its error as cause', async () => {
    const { cache } = clockedCache();
    const boom = new TypeError('bad row');
    await expect(cache.getOrSet('k', () => Promise.reject(boom))).rejects.toMatchObject({
      name: 'CacheError',
      code: 'LOADER_FAILED',
      cause: boom,
      key: expect.stringContaining('"k"'),
    });
  });
});

describe("stale policy 'return'", () => {
  it('serves the stale value until it expires, never calling the loader', async () => {
    const { cache, advance } = await withStaleValue({ stalePolicy: 'return' });
    const loader = countingLoader(2);
    expect(await cache.getOrSet('k', loader)).toBe(1);
    await advance(9_999);
    expect(await cache.getOrSet('k', loader)).toBe(1);
    expect(loader.calls).toBe(0);
    await advance(1);
    expect(await cache.getOrSet('k', loader)).toBe(2);
  });
});
