import { randomBytes } from 'node:crypto';
import { createCache } from '@cache/cache';
import { compose } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { RedisBackend } from '@cache/redis';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import type { ObservedMemoryBackend } from '../src/index.js';
import { sdkPerTest } from './helpers.js';

const parentName = (span: ReadableSpan, spans: readonly ReadableSpan[]) =>
  spans.find((other) => other.spanContext().spanId === span.parentSpanContext?.spanId)?.name;

describe('end to end: a real createCache publishing on the channels', () => {
  const t = sdkPerTest();

  it('memory over memory: miss and load, L1 hit, L2 hit; metrics, spans and memory gauges', async () => {
    const near = memoryBackend({ maxEntries: 100, label: 'near' });
    const far = memoryBackend({ maxEntries: 100, label: 'far' });
    const observed: ObservedMemoryBackend[] = [near, far]; // MemoryBackend fits the option as it is
    t.instrument({
      meterProvider: t.sdk.meterProvider,
      tracerProvider: t.sdk.tracerProvider,
      memoryBackends: observed,
    });
    const cache = createCache({ store: compose(near, far, { label: 'tiers' }), namespace: 'app' });
    try {
      await t.sdk.inRequest(async () => {
        expect(await cache.getOrSet('a', () => 1)).toBe(1);
        expect(await cache.getOrSet('a', () => 2)).toBe(1);
        near.delete(cache.key('a'));
        expect(await cache.getOrSet('a', () => 2)).toBe(1);
      });
      const metrics = await t.sdk.collect();
      const op = { 'cache.operation': 'lookup', 'cache.namespace': 'app:' };
      expect(metrics['cache.operations']).toEqual([
        { attributes: { ...op, 'cache.outcome': 'hit', 'cache.tier': 'tiers.far' }, value: 1 },
        { attributes: { ...op, 'cache.outcome': 'hit', 'cache.tier': 'tiers.near' }, value: 1 },
        { attributes: { ...op, 'cache.outcome': 'miss' }, value: 1 },
      ]);
      expect(metrics['cache.loader.runs']).toEqual([
        {
          attributes: {
            'cache.namespace': 'app:',
            'cache.loader.background': false,
            'cache.loader.outcome': 'loaded',
          },
          value: 1,
        },
      ]);
      expect(metrics['cache.memory.entries']).toEqual([
        { attributes: { 'cache.backend': 'far' }, value: 1 },
        { attributes: { 'cache.backend': 'near' }, value: 1 },
      ]);
      const spans = t.sdk.spans();
      expect(spans.map((span) => [span.name, parentName(span, spans)])).toEqual([
        ['cache.load', 'cache.getOrSet'],
        ['cache.getOrSet', 'request'],
        ['cache.getOrSet', 'request'],
        ['cache.getOrSet', 'request'],
        ['request', undefined],
      ]);
      expect(JSON.stringify(spans.map((span) => span.attributes))).not.toContain('cache.key');
    } finally {
      await cache.close();
    }
  });

  describe.skipIf(process.env.REDIS_URL === undefined)('over Redis (REDIS_URL)', () => {
    it('store spans and db.client.operation.duration for the Redis tier', async () => {
      t.instrument({ meterProvider: t.sdk.meterProvider, tracerProvider: t.sdk.tracerProvider });
      const redis = new RedisBackend({
        url: process.env.REDIS_URL ?? '',
        namespace: `cache-otel:${randomBytes(4).toString('hex')}:`,
      });
      const cache = createCache({
        store: compose(memoryBackend({ maxEntries: 100 }), redis),
        namespace: 'app',
      });
      try {
        await t.sdk.inRequest(async () => {
          expect(await cache.getOrSet('a', () => 1)).toBe(1);
          await cache.delete('a');
        });
        const spans = t.sdk.spans();
        const store = spans.filter((span) => span.attributes['db.system.name'] === 'redis');
        expect(store.length).toBeGreaterThan(0);
        for (const span of store) {
          expect(['cache.getOrSet', 'cache.delete', 'cache.load']).toContain(parentName(span, spans));
        }
        expect(store.map((span) => span.name)).toEqual(
          expect.arrayContaining(['write redis', 'remove redis']),
        );
        const points = (await t.sdk.collect())['db.client.operation.duration'] ?? [];
        const operations = points.map((point) => point.attributes['db.operation.name']);
        expect(operations).toEqual(expect.arrayContaining(['write', 'remove']));
        for (const point of points) expect(point.attributes['db.system.name']).toBe('redis');
      } finally {
        await cache.close();
        await redis.close();
      }
    });
  });
});
