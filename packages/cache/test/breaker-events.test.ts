import { breaker, CacheError, compose, faulty } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type CacheEvent, createCache } from '../src/index.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('breaker events', () => {
  it("a breaker inside the store reports its state changes as the cache's events, and fails fast when open", async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const far = faulty(memoryBackend({ maxEntries: 100, label: 'far' }));
    const guarded = breaker(far, { failureThreshold: 2, openMs: 1_000, now: Date.now });
    const events: CacheEvent[] = [];
    const cache = createCache({
      store: compose(memoryBackend({ maxEntries: 100 }), guarded, { onError: () => undefined }),
      onEvent: (event) => events.push(event),
      fallbackTtlMs: 0,
    });
    far.inject({ kind: 'fail', error: new CacheError('TIMEOUT', 'far tier timed out') });
    for (let i = 0; i < 4; i++) expect(await cache.getOrSet(`k${i}`, () => i)).toBe(i);
    const changes = events.filter((e) => e.type === 'breaker');
    expect(changes).toMatchObject([{ backend: 'far', from: 'closed', to: 'open', reason: 'failures' }]);
    const before = far.calls.get;
    await cache.getOrSet('k9', () => 9);
    expect(far.calls.get).toBe(before); // open: the far tier is not even asked
    expect(cache.stats().breakerOpened).toBe(1);
    far.heal();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await cache.getOrSet('k10', () => 10)).toBe(10);
    expect(events.filter((e) => e.type === 'breaker').map((e) => e.type === 'breaker' && e.to)).toEqual([
      'open',
      'half-open',
      'closed',
    ]);
    await cache.close();
  });
});
