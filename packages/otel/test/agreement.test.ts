import { randomBytes } from 'node:crypto';
import { type Cache, type CacheStats, createCache } from '@cache/cache';
import { type CacheBackend, compose } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { RedisBackend } from '@cache/redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CacheInstrumentation, instrumentCache } from '../src/index.js';
import { otelSdk, type Point } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SHORT = { ttlMs: 30, graceMs: 60_000 } as const;
const fail = async (): Promise<number> => {
  throw new Error('loader down');
};

/**
 * Every path that moves a counter of `stats()`: misses that load, collapsed callers, L1 and L2 hits, a `get`
 * miss and a stale `get`, stale-while-revalidate with its refresh, fail-safe after a failure and during the
 * backoff, a soft timeout, a hard timeout with and without a stale value, a loader failure with nothing stale, a
 * refresh that fails.
 */
async function scenario(cache: Cache, forgetL1: (key: string) => void): Promise<void> {
  const users = cache.namespace('users');
  await users.getOrSet('1', () => 1);
  await Promise.all([1, 2, 3].map(() => users.getOrSet('2', async () => 2))); // one load, two joins
  await sleep(10); // the writes land
  for (let i = 0; i < 3; i++) await users.getOrSet('1', () => 0);
  forgetL1('1');
  await users.getOrSet('1', () => 0);
  await users.get('absent');

  for (const key of ['swr', 'failsafe', 'soft', 'hard', 'inline', 'refresh-fails', 'stale-get']) {
    await cache.set(key, 0, SHORT);
  }
  await sleep(50);
  await cache.get('stale-get', { allowStale: true });
  await cache.getOrSet('swr', async () => 1, SHORT);
  await cache.getOrSet('refresh-fails', fail, SHORT);
  await cache.getOrSet('failsafe', fail, { ...SHORT, stalePolicy: 'inline' });
  await cache.getOrSet('failsafe', fail, { ...SHORT, stalePolicy: 'inline' }); // backoff
  await cache.getOrSet('soft', () => sleep(40).then(() => 1), {
    ...SHORT,
    stalePolicy: 'inline',
    softTimeoutMs: 5,
  });
  await cache.getOrSet('hard', () => sleep(200).then(() => 1), {
    ...SHORT,
    stalePolicy: 'inline',
    hardTimeoutMs: 5,
  });
  await expect(
    cache.getOrSet('hard-none', () => sleep(200).then(() => 1), { hardTimeoutMs: 5 }),
  ).rejects.toThrow();
  await expect(cache.getOrSet('nothing-stale', fail)).rejects.toThrow();
  await sleep(80); // the background refreshes and the soft-timed-out loader settle
  await cache.delete('swr');
  await cache.namespace('scratch').clear();
}

const total = (points: readonly Point[] | undefined, match: (point: Point) => boolean = () => true) =>
  (points ?? []).filter(match).reduce((sum, point) => sum + (point.value ?? 0), 0);

/** The counters of `stats()` that the metrics carry, computed from the collected points. */
function fromMetrics(metrics: Record<string, Point[]>): Record<string, unknown> {
  const operations = metrics['cache.operations'];
  const lookup = (point: Point) => point.attributes['cache.operation'] === 'lookup';
  const operation = (value: string) => (point: Point) => point.attributes['cache.operation'] === value;
  const outcome = (value: string) => (point: Point) =>
    lookup(point) && point.attributes['cache.outcome'] === value;
  const hitsBySource: Record<string, number> = {};
  for (const point of operations ?? []) {
    if (!outcome('hit')(point)) continue;
    const tier = String(point.attributes['cache.tier'] ?? 'store');
    hitsBySource[tier] = (hitsBySource[tier] ?? 0) + (point.value ?? 0);
  }
  const runs = metrics['cache.loader.runs'];
  const loaderOutcome = (value: string) => (point: Point) =>
    point.attributes['cache.loader.outcome'] === value;
  return {
    hits: total(operations, outcome('hit')),
    hitsBySource,
    staleHits: total(operations, outcome('stale')),
    misses: total(operations, outcome('miss')),
    loads: total(runs),
    loaderErrors: total(runs, loaderOutcome('failed')),
    hardTimeouts: total(runs, loaderOutcome('timeout')),
    failSafe: total(metrics['cache.fail_safe.activations']),
    staleServed: total(metrics['cache.stale.served']),
    refreshes: total(metrics['cache.refreshes']),
    sets: total(operations, operation('set')),
    deletes: total(operations, operation('delete')),
    clears: total(operations, operation('clear')),
  };
}

function fromStats(stats: CacheStats): Record<string, unknown> {
  return {
    hits: stats.hits,
    hitsBySource: stats.hitsBySource,
    staleHits: stats.staleHits,
    misses: stats.misses,
    loads: stats.loads,
    loaderErrors: stats.loaderErrors,
    hardTimeouts: stats.hardTimeouts,
    failSafe: stats.failSafe,
    staleServed: stats.staleHits,
    refreshes: stats.refreshes,
    sets: stats.sets,
    deletes: stats.deletes,
    clears: stats.clears,
  };
}

describe('cache.stats() and the OpenTelemetry metrics agree', () => {
  let sdk: ReturnType<typeof otelSdk>;
  let otel: CacheInstrumentation;
  beforeEach(() => {
    sdk = otelSdk();
    otel = instrumentCache({ meterProvider: sdk.meterProvider, traces: false });
  });
  afterEach(async () => {
    otel.disable();
    await sdk.shutdown();
  });

  async function check(store: CacheBackend, forget: (cache: Cache, key: string) => void) {
    const cache = createCache({ store, namespace: 'app' });
    const silenced = cache.on(() => undefined); // the scenario's failures are expected: no console warnings
    try {
      await scenario(cache, (key) => forget(cache, key));
      const stats = cache.stats();
      expect(fromMetrics(await sdk.collect())).toEqual(fromStats(stats));
      // The scenario does reach every counter compared.
      expect(stats).toMatchObject({ collapsed: 2, softTimeouts: 1 });
      for (const [name, value] of Object.entries(fromStats(stats))) {
        if (typeof value === 'number') expect(value, name).toBeGreaterThan(0);
      }
    } finally {
      silenced();
      await cache.clear(); // the run's keys, under its own namespace
      await cache.close();
    }
  }

  it('memory over memory', async () => {
    const near = memoryBackend({ maxEntries: 100, label: 'near' });
    const far = memoryBackend({ maxEntries: 100, label: 'far' });
    await check(compose(near, far), (cache, key) => near.delete(cache.namespace('users').key(key)));
  });

  // A loader that close() ends is published with outcome 'aborted', and stats() does not count it in loaderErrors:
  // nothing failed. A closed cache's counters are no longer read (it leaves observedCaches()), so only the loader
  // metrics, which come from the load traces, are compared after close().
  it('a loader still running at close()', async () => {
    const cache = createCache({ store: memoryBackend({ maxEntries: 10 }), namespace: 'app' });
    const running = cache.getOrSet('slow', () => sleep(50).then(() => 1));
    await sleep(5);
    await cache.close();
    await expect(running).rejects.toThrow();
    await sleep(10);
    const loaderFields = ({ loads, loaderErrors, hardTimeouts, refreshes }: Record<string, unknown>) => ({
      loads,
      loaderErrors,
      hardTimeouts,
      refreshes,
    });
    expect(loaderFields(fromMetrics(await sdk.collect()))).toEqual(loaderFields(fromStats(cache.stats())));
    expect(cache.stats()).toMatchObject({ loads: 1, loaderErrors: 0 });
  });

  // A stale value reloaded inline (stalePolicy 'inline', the loader succeeds): the caller got nothing usable from
  // the store, a miss on both sides.
  it('a stale value reloaded inline counts as a miss on both sides', async () => {
    const cache = createCache({ store: memoryBackend({ maxEntries: 10 }), namespace: 'app' });
    try {
      await cache.set('k', 0, SHORT);
      await sleep(50);
      await cache.getOrSet('k', async () => 1, { ...SHORT, stalePolicy: 'inline' });
      expect(fromMetrics(await sdk.collect())).toEqual(fromStats(cache.stats()));
    } finally {
      await cache.close();
    }
  });

  it.skipIf(process.env.REDIS_URL === undefined)('memory over Redis (REDIS_URL)', async () => {
    const near = memoryBackend({ maxEntries: 100 });
    const redis = new RedisBackend({
      url: process.env.REDIS_URL ?? '',
      namespace: `cache-otel-agreement:${randomBytes(4).toString('hex')}:`,
    });
    await check(compose(near, redis), (cache, key) => near.delete(cache.namespace('users').key(key)));
  });
});
