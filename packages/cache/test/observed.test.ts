import { spawnSync } from 'node:child_process';
import dc from 'node:diagnostics_channel';
import { DIAGNOSTICS_CHANNELS, type OperationContext, observedCaches } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { describe, expect, it } from 'vitest';
import { createCache } from '../src/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Subscribes to one tracing channel and keeps every context that finished on it. */
function follow(name: string) {
  const finished: OperationContext[] = [];
  const channel = dc.tracingChannel(name);
  const handlers = {
    start: () => undefined,
    end: () => undefined,
    asyncStart: () => undefined,
    asyncEnd: (context: object) => finished.push(context as OperationContext),
    error: () => undefined,
  };
  channel.subscribe(handlers);
  return { finished, stop: () => channel.unsubscribe(handlers) };
}

describe('what observers read without tracing every call', () => {
  // First in the file: the sampling state is per process, and a busy test before it would have set a long interval
  // (the first up to 1024 calls after a burst are sampled at the burst's rate; see OPERATION_SAMPLING).
  it('cache:operation:sample traces every operation of a quiet cache', async () => {
    const sample = follow(DIAGNOSTICS_CHANNELS.operationSample);
    const cache = createCache({ store: memoryBackend({ maxEntries: 10 }), namespace: 'quiet' });
    try {
      // Far fewer than OPERATION_SAMPLING.perSecond (1000) a second: 5 ms apart at least.
      for (let i = 0; i < 12; i++) {
        await cache.getOrSet('k', () => i);
        await sleep(5);
      }
      // The first call may still be sampled at an interval chosen before the test; the rest are each sampled.
      const traced = sample.finished.filter((context) => context.namespace === 'quiet:');
      expect(traced.length).toBeGreaterThanOrEqual(10);
      expect(traced.at(-1)).toMatchObject({ operation: 'getOrSet', outcome: 'hit' });
    } finally {
      sample.stop();
      await cache.close();
    }
  });

  it('createCache lists the cache in observedCaches() with its namespace, close() removes it', async () => {
    const cache = createCache({ store: memoryBackend({ maxEntries: 10 }), namespace: 'observed' });
    expect(observedCaches()).toContain(cache);
    expect(cache.prefix).toBe('observed:');
    await cache.set('a', 1);
    await cache.getOrSet('a', () => 2);
    await cache.delete('a');
    await cache.clear();
    // The counters an observer reads: the ObservedCacheStats fields of core's contract.
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 0, sets: 1, deletes: 1, clears: 1 });
    await cache.close();
    expect(observedCaches()).not.toContain(cache);
  });

  it('a namespace is not listed apart: it counts into its cache', async () => {
    const cache = createCache({ store: memoryBackend({ maxEntries: 10 }) });
    try {
      const users = cache.namespace('users');
      expect(observedCaches()).not.toContain(users);
      await users.getOrSet('1', () => 1);
      expect(cache.stats().misses).toBe(1);
    } finally {
      await cache.close();
    }
  });

  it('cache:operation:sample traces a small share of a busy cache, never every call', async () => {
    const sample = follow(DIAGNOSTICS_CHANNELS.operationSample);
    const cache = createCache({ store: memoryBackend({ maxEntries: 10 }), namespace: 'busy' });
    try {
      await cache.set('k', 1);
      const calls = 200_000;
      const pending: Promise<number>[] = [];
      for (let i = 0; i < calls; i++) pending.push(cache.getOrSet('k', () => 0));
      await Promise.all(pending);
      const traced = sample.finished.filter((context) => context.namespace === 'busy:').length;
      expect(traced).toBeGreaterThan(0);
      // Memory hits come far faster than 1000 a second: the interval grows towards 1 in 1024. A quarter of the calls
      // would mean the sampling does not adapt at all (it would take this machine 200 s to make 200k calls).
      expect(traced).toBeLessThan(calls / 4);
    } finally {
      sample.stop();
      await cache.close();
    }
  });

  it('with both channels subscribed, a sampled operation gives both subscribers one context', async () => {
    const every = follow(DIAGNOSTICS_CHANNELS.operation);
    const sample = follow(DIAGNOSTICS_CHANNELS.operationSample);
    const cache = createCache({ store: memoryBackend({ maxEntries: 10 }), namespace: 'both' });
    try {
      // More calls than the longest interval (1024): at least two fall in the sample, whatever the rate.
      const calls = 2100;
      for (let i = 0; i < calls; i++) await cache.getOrSet('k', () => i);
      const all = every.finished.filter((context) => context.namespace === 'both:');
      const sampled = sample.finished.filter((context) => context.namespace === 'both:');
      expect(all).toHaveLength(calls);
      expect(sampled.length).toBeGreaterThanOrEqual(2);
      const contexts = new Set(all);
      for (const context of sampled) expect(contexts.has(context)).toBe(true);
    } finally {
      every.stop();
      sample.stop();
      await cache.close();
    }
  });

  it('invalidateTags is traced on cache:operation, without a key', async () => {
    const every = follow(DIAGNOSTICS_CHANNELS.operation);
    const cache = createCache({ store: memoryBackend({ maxEntries: 10 }), namespace: 'tagged' });
    try {
      await cache.set('k', 1, { tags: ['team:7'] });
      await cache.invalidateTags(['team:7']);
      const traced = every.finished.filter((context) => context.namespace === 'tagged:');
      expect(traced.map((context) => context.operation)).toEqual(['set', 'invalidateTags']);
      expect(traced[1]?.key).toBeUndefined();
      expect(await cache.get('k')).toBeUndefined();
    } finally {
      every.stop();
      await cache.close();
    }
  });

  it('caches dropped without close() leave the registry once collected: it never outgrows the live caches', () => {
    // A child process with --expose-gc over the built packages: make 2,000 caches and drop them, collect, and let
    // the finalizers run; the registry (one per process, under a global symbol) then holds only the one kept.
    const script = `
      const { createCache } = await import('@cache/cache');
      const { memoryBackend } = await import('@cache/memory');
      const { observedCaches } = await import('@cache/core');
      const make = () => createCache({ store: memoryBackend({ maxEntries: 1 }) });
      const kept = make();
      for (let i = 0; i < 2000; i++) make();
      for (let i = 0; i < 5; i++) {
        globalThis.gc();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const refs = globalThis[Symbol.for('@cache/core:observed-caches')].refs.size;
      console.log(JSON.stringify({ refs, alive: observedCaches().length, kept: observedCaches().includes(kept) }));
    `;
    const child = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url),
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ refs: 1, alive: 1, kept: true });
  });
});
