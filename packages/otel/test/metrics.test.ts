import { type ObservedCache, type ObservedCacheStats, observeCache, unobserveCache } from '@cache/core';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CacheInstrumentation } from '../src/index.js';
import { hasSubscribers, sdkPerTest, type Point, sortPoints } from './helpers.js';
import { scenario } from './scenario.js';

const ns = { 'cache.namespace': 'app:' };
const redisOp = (operation: string) => ({
  'db.system.name': 'redis',
  'db.operation.name': operation,
  'cache.backend': 'redis',
});
const sum = (attributes: Point['attributes'], value: number): Point => ({ attributes, value });
const hist = (attributes: Point['attributes'], count: number): Point => ({ attributes, count });

/** The duration points of the scenario's operations (each one sampled): the attributes of each, and how many. */
const durationPoints: [Point['attributes'], number][] = [
  [{ 'cache.operation': 'get', ...ns, 'cache.outcome': 'hit', 'cache.tier': 'memory' }, 1],
  [{ 'cache.operation': 'get', ...ns, 'cache.outcome': 'hit', 'cache.tier': 'redis' }, 1],
  [{ 'cache.operation': 'get', ...ns, 'cache.outcome': 'miss' }, 1],
  [{ 'cache.operation': 'getOrSet', ...ns, 'cache.outcome': 'miss' }, 1],
  [{ 'cache.operation': 'getOrSet', ...ns, 'cache.outcome': 'miss', 'error.type': 'LOADER_FAILED' }, 1],
  [
    {
      'cache.operation': 'getOrSet',
      ...ns,
      'cache.outcome': 'stale',
      'cache.tier': 'memory',
      'cache.fail_safe': false,
    },
    1,
  ],
  [
    {
      'cache.operation': 'getOrSet',
      ...ns,
      'cache.outcome': 'stale',
      'cache.tier': 'memory',
      'cache.fail_safe': true,
    },
    2,
  ],
  [{ 'cache.operation': 'set', ...ns }, 1],
  [{ 'cache.operation': 'delete', ...ns }, 1],
  [{ 'cache.operation': 'clear', ...ns }, 1],
];

/**
 * Two caches of one namespace, as `createCache` registers them: `cache.operations`, `cache.stale.served` and
 * `cache.fail_safe.activations` are their counters, summed, read at each collection.
 */
const counters: ObservedCacheStats = {
  hits: 5,
  hitsBySource: { memory: 3, redis: 2 },
  staleHits: 3,
  failSafe: 2,
  misses: 4,
  sets: 1,
  deletes: 1,
  clears: 1,
};
const caches: ObservedCache[] = [
  { prefix: 'app:', stats: () => counters },
  { prefix: 'app:', stats: () => ({ ...counters, hitsBySource: { memory: 1 }, hits: 1 }) },
];
const lookup = { ...ns, 'cache.operation': 'lookup' };
const countPoints: Point[] = [
  sum({ ...lookup, 'cache.outcome': 'hit', 'cache.tier': 'memory' }, 4),
  sum({ ...lookup, 'cache.outcome': 'hit', 'cache.tier': 'redis' }, 2),
  sum({ ...lookup, 'cache.outcome': 'stale', 'cache.fail_safe': false }, 2),
  sum({ ...lookup, 'cache.outcome': 'stale', 'cache.fail_safe': true }, 4),
  sum({ ...lookup, 'cache.outcome': 'miss' }, 8),
  sum({ ...ns, 'cache.operation': 'set' }, 2),
  sum({ ...ns, 'cache.operation': 'delete' }, 2),
  sum({ ...ns, 'cache.operation': 'clear' }, 2),
];

describe('metrics', () => {
  const t = sdkPerTest();
  let otel: CacheInstrumentation;
  beforeEach(() => {
    for (const cache of caches) observeCache(cache);
  });
  afterEach(() => {
    for (const cache of caches) unobserveCache(cache);
  });

  it('records exactly the expected points for the scripted scenario', async () => {
    const memory = { label: 'memory', size: 2, bytes: 512 };
    otel = t.instrument({
      meterProvider: t.sdk.meterProvider,
      traces: false,
      memoryBackends: [memory],
    });
    await scenario();
    const loaded = { ...ns, 'cache.loader.outcome': 'loaded' };
    expect(await t.sdk.collect()).toEqual({
      'cache.operations': sortPoints(countPoints),
      'cache.operation.duration': sortPoints(durationPoints.map(([attributes, n]) => hist(attributes, n))),
      'cache.stale.served': [sum(ns, 6)],
      'cache.fail_safe.activations': [sum(ns, 4)],
      'cache.loader.runs': sortPoints([
        sum({ ...loaded, 'cache.loader.background': false }, 1),
        sum({ ...loaded, 'cache.loader.background': true }, 1),
        sum(
          {
            ...ns,
            'cache.loader.background': false,
            'cache.loader.outcome': 'failed',
            'error.type': 'TypeError',
          },
          1,
        ),
        sum(
          {
            ...ns,
            'cache.loader.background': false,
            'cache.loader.outcome': 'failed',
            'error.type': 'Error',
          },
          1,
        ),
        sum(
          {
            ...ns,
            'cache.loader.background': false,
            'cache.loader.outcome': 'timeout',
            'error.type': 'LOADER_TIMEOUT',
          },
          1,
        ),
      ]),
      'cache.loader.duration': sortPoints([
        hist({ ...loaded, 'cache.loader.background': false }, 1),
        hist({ ...loaded, 'cache.loader.background': true }, 1),
        hist(
          {
            ...ns,
            'cache.loader.background': false,
            'cache.loader.outcome': 'failed',
            'error.type': 'TypeError',
          },
          1,
        ),
        hist(
          {
            ...ns,
            'cache.loader.background': false,
            'cache.loader.outcome': 'failed',
            'error.type': 'Error',
          },
          1,
        ),
        hist(
          {
            ...ns,
            'cache.loader.background': false,
            'cache.loader.outcome': 'timeout',
            'error.type': 'LOADER_TIMEOUT',
          },
          1,
        ),
      ]),
      'cache.refreshes': [sum({ ...loaded, 'cache.loader.background': true }, 1)],
      'db.client.operation.duration': sortPoints([
        hist(redisOp('read'), 2),
        hist({ ...redisOp('read'), 'error.type': 'TIMEOUT' }, 1),
        hist(redisOp('write'), 2),
        hist(redisOp('remove'), 1),
        hist(redisOp('clear'), 1),
      ]),
      'cache.store.payload.size': sortPoints([hist(redisOp('read'), 1), hist(redisOp('write'), 2)]),
      'cache.breaker.state_changes': [
        sum({ 'cache.backend': 'redis', 'cache.breaker.from': 'closed', 'cache.breaker.to': 'open' }, 1),
      ],
      'cache.breaker.state': [sum({ 'cache.backend': 'redis' }, 2)],
      'cache.coherence.messages': sortPoints([
        sum({ 'cache.backend': 'redis', 'cache.coherence.kind': 'heartbeat' }, 1),
        sum({ 'cache.backend': 'redis', 'cache.coherence.kind': 'invalidation' }, 2),
      ]),
      'cache.coherence.trust_changes': [
        sum({ 'cache.backend': 'redis', 'cache.coherence.trusted': false }, 1),
      ],
      'cache.coherence.trusted': [sum({ 'cache.backend': 'redis' }, 0)],
      'cache.memory.entries': sortPoints([
        sum({ 'cache.backend': 'memory' }, 2),
        sum({ 'cache.backend': 'memory-events' }, 3),
      ]),
      'cache.memory.usage': sortPoints([
        sum({ 'cache.backend': 'memory' }, 512),
        sum({ 'cache.backend': 'memory-events' }, 300),
      ]),
    });
    // Gauges read the backends at each collection.
    memory.size = 5;
    const again = await t.sdk.collect();
    expect(again['cache.memory.entries']).toContainEqual(sum({ 'cache.backend': 'memory' }, 5));
  });

  it('uses the units and instrument types of the README table', async () => {
    otel = t.instrument({ meterProvider: t.sdk.meterProvider, traces: false });
    await scenario();
    const expected: Record<string, [string, DataPointType]> = {
      'cache.operations': ['{operation}', DataPointType.SUM],
      'cache.operation.duration': ['s', DataPointType.HISTOGRAM],
      'cache.loader.duration': ['s', DataPointType.HISTOGRAM],
      'db.client.operation.duration': ['s', DataPointType.HISTOGRAM],
      'cache.store.payload.size': ['By', DataPointType.HISTOGRAM],
      'cache.breaker.state': ['1', DataPointType.GAUGE],
      'cache.memory.entries': ['{entry}', DataPointType.GAUGE],
      'cache.memory.usage': ['By', DataPointType.GAUGE],
    };
    for (const [name, [unit, type]] of Object.entries(expected)) {
      expect(await t.sdk.descriptor(name), name).toEqual({ unit, type });
    }
  });

  it('records durations in seconds', async () => {
    otel = t.instrument({ meterProvider: t.sdk.meterProvider, traces: false });
    await scenario();
    // The background refresh sleeps 5 ms: its duration is a few thousandths, not a few units.
    const refresh = await t.sdk.histogramSum('cache.loader.duration', { 'cache.loader.background': true });
    expect(refresh).toBeGreaterThanOrEqual(0.004);
    expect(refresh).toBeLessThan(1);
  });

  it('records nothing with metrics: false, and nothing after disable()', async () => {
    otel = t.instrument({ meterProvider: t.sdk.meterProvider, metrics: false, traces: false });
    expect(hasSubscribers()).toBe(false);
    otel.disable();
    otel = t.instrument({ meterProvider: t.sdk.meterProvider, traces: false });
    expect(hasSubscribers()).toBe(true);
    otel.disable();
    otel.disable();
    expect(hasSubscribers()).toBe(false);
    await scenario();
    expect(await t.sdk.collect()).toEqual({});
  });

  it('reads the counters at each collection, and stops reading a cache once unobserved', async () => {
    otel = t.instrument({ meterProvider: t.sdk.meterProvider, traces: false });
    const moving = { ...counters, hitsBySource: { memory: 3 }, misses: 0 };
    const cache: ObservedCache = { prefix: 'moving:', stats: () => moving };
    observeCache(cache);
    const hits = async () =>
      (await t.sdk.collect())['cache.operations']?.find(
        (point) =>
          point.attributes['cache.namespace'] === 'moving:' && point.attributes['cache.outcome'] === 'hit',
      )?.value;
    expect(await hits()).toBe(3);
    moving.hitsBySource = { memory: 10 };
    expect(await hits()).toBe(10);
    unobserveCache(cache);
    moving.hitsBySource = { memory: 20 };
    expect(await hits()).not.toBe(20); // the SDK may repeat the last value it was given; it reads no new one
  });

  it('a cache whose stats() throws is skipped; the others are still reported', async () => {
    otel = t.instrument({ meterProvider: t.sdk.meterProvider, traces: false });
    const broken: ObservedCache = {
      prefix: 'broken:',
      stats: () => {
        throw new Error('secret-token-1234');
      },
    };
    observeCache(broken);
    try {
      const points = (await t.sdk.collect())['cache.operations'] ?? [];
      expect(points.some((point) => point.attributes['cache.namespace'] === 'broken:')).toBe(false);
      expect(points.some((point) => point.attributes['cache.namespace'] === 'app:')).toBe(true);
    } finally {
      unobserveCache(broken);
    }
  });
});
