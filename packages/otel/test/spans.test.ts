import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import type { CacheInstrumentation } from '../src/index.js';
import { load, operation, sdkPerTest, store } from './helpers.js';
import { scenario } from './scenario.js';

/** Each span as the path of names from its root, in the order they ended. */
function paths(spans: readonly ReadableSpan[]): string[] {
  const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
  return spans.map((span) => {
    const names = [span.name];
    for (let parent = span.parentSpanContext; parent !== undefined; ) {
      const up = byId.get(parent.spanId);
      if (up === undefined) {
        names.unshift('(missing parent)');
        break;
      }
      names.unshift(up.name);
      parent = up.parentSpanContext;
    }
    return names.join(' > ');
  });
}

const find = (spans: readonly ReadableSpan[], name: string, key?: string) =>
  spans.filter((span) => span.name === name && (key === undefined || span.attributes['cache.key'] === key));

describe('spans', () => {
  const t = sdkPerTest();
  let otel: CacheInstrumentation;

  it('opens one span per operation, loader and store spans as its children, under the request span', async () => {
    otel = t.instrument({ tracerProvider: t.sdk.tracerProvider, metrics: false });
    await t.sdk.inRequest(() => scenario());
    expect(paths(t.sdk.spans()).sort()).toEqual(
      [
        'request',
        'request > cache.get', // L1 hit
        'request > cache.get', // L2 hit
        'request > cache.get > read redis',
        'request > cache.get', // Redis timeout
        'request > cache.get > read redis',
        'request > cache.getOrSet', // miss
        'request > cache.getOrSet > read redis',
        'request > cache.getOrSet > cache.load',
        'request > cache.getOrSet > write redis',
        'request > cache.getOrSet', // stale + refresh
        'request > cache.getOrSet > cache.load',
        'request > cache.getOrSet', // fail-safe
        'request > cache.getOrSet > cache.load',
        'request > cache.getOrSet', // timeout, fail-safe
        'request > cache.getOrSet > cache.load',
        'request > cache.getOrSet', // loader failed, nothing stale
        'request > cache.getOrSet > cache.load',
        'request > cache.set',
        'request > cache.set > write redis',
        'request > cache.delete',
        'request > cache.delete > remove redis',
        'request > cache.clear',
        'request > cache.clear > clear redis',
      ].sort(),
    );
    const spans = t.sdk.spans();
    const [l1, l2, timedOut] = find(spans, 'cache.get');
    expect(l1?.attributes).toEqual({
      'cache.operation': 'get',
      'cache.namespace': 'app:',
      'cache.outcome': 'hit',
      'cache.tier': 'memory',
    });
    expect(l2?.attributes).toMatchObject({ 'cache.outcome': 'hit', 'cache.tier': 'redis' });
    expect(timedOut?.attributes).toMatchObject({ 'cache.outcome': 'miss' });
    expect(timedOut?.status.code).toBe(SpanStatusCode.UNSET);

    const [readTimeout] = spans.filter((span) => span.attributes['error.type'] === 'TIMEOUT');
    expect(readTimeout?.name).toBe('read redis');
    expect(readTimeout?.kind).toBe(SpanKind.CLIENT);
    expect(readTimeout?.attributes).toEqual({
      'db.system.name': 'redis',
      'db.operation.name': 'read',
      'cache.backend': 'redis',
      'error.type': 'TIMEOUT',
    });
    expect(readTimeout?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'TIMEOUT' });
    expect(readTimeout?.events).toEqual([]);

    const l2Read = spans.find((span) => span.attributes['cache.store.payload.size'] === 120);
    expect(l2Read?.attributes).toEqual({
      'db.system.name': 'redis',
      'db.operation.name': 'read',
      'cache.backend': 'redis',
      'cache.store.payload.size': 120,
    });

    const getOrSets = find(spans, 'cache.getOrSet');
    expect(getOrSets.map((span) => span.attributes)).toEqual(
      expect.arrayContaining([
        { 'cache.operation': 'getOrSet', 'cache.namespace': 'app:', 'cache.outcome': 'miss' },
        {
          'cache.operation': 'getOrSet',
          'cache.namespace': 'app:',
          'cache.outcome': 'stale',
          'cache.tier': 'memory',
          'cache.fail_safe': true,
        },
        {
          'cache.operation': 'getOrSet',
          'cache.namespace': 'app:',
          'cache.outcome': 'miss',
          'error.type': 'LOADER_FAILED',
        },
      ]),
    );
    const loads = find(spans, 'cache.load').map((span) => [span.attributes, span.status]);
    expect(loads).toEqual(
      expect.arrayContaining([
        [
          { 'cache.namespace': 'app:', 'cache.loader.background': true, 'cache.loader.outcome': 'loaded' },
          { code: SpanStatusCode.UNSET },
        ],
        [
          {
            'cache.namespace': 'app:',
            'cache.loader.background': false,
            'cache.loader.outcome': 'failed',
            'error.type': 'TypeError',
          },
          { code: SpanStatusCode.ERROR, message: 'TypeError' },
        ],
        [
          {
            'cache.namespace': 'app:',
            'cache.loader.background': false,
            'cache.loader.outcome': 'timeout',
            'error.type': 'LOADER_TIMEOUT',
          },
          { code: SpanStatusCode.ERROR, message: 'LOADER_TIMEOUT' },
        ],
      ]),
    );
  });

  it('puts no keys, values or error messages on spans by default', async () => {
    otel = t.instrument({ tracerProvider: t.sdk.tracerProvider, metrics: false });
    await t.sdk.inRequest(() => scenario());
    const text = JSON.stringify(t.sdk.spans().map((span) => [span.attributes, span.status, span.events]));
    expect(text).not.toContain('user:');
    expect(text).not.toContain('secret');
    expect(text).not.toContain('cache.key');
  });

  it('puts the sanitized key on spans with includeKeys', async () => {
    otel = t.instrument({
      tracerProvider: t.sdk.tracerProvider,
      metrics: false,
      includeKeys: true,
      keySanitizer: (key) => key.replace(/\d+/g, '#'),
    });
    await t.sdk.inRequest(() => scenario());
    const spans = t.sdk.spans();
    const keys = new Set(spans.map((span) => span.attributes['cache.key']));
    expect(keys).toEqual(new Set(['user:#', undefined]));
    // Only the request span and the clear operation (and its store clear) have no key.
    expect(
      spans
        .filter((span) => span.attributes['cache.key'] === undefined)
        .map((span) => span.name)
        .sort(),
    ).toEqual(['cache.clear', 'clear redis', 'request']);
  });

  it('records the key as it is with includeKeys and no sanitizer; drops it when the sanitizer throws', async () => {
    otel = t.instrument({ tracerProvider: t.sdk.tracerProvider, metrics: false, includeKeys: true });
    await t.sdk.inRequest(() =>
      operation({ operation: 'get', namespace: 'app:', key: 'user:42' }, async (op) => {
        op.outcome = 'miss';
      }),
    );
    expect(find(t.sdk.spans(), 'cache.get')[0]?.attributes['cache.key']).toBe('user:42');
    otel.disable();
    otel = t.instrument({
      tracerProvider: t.sdk.tracerProvider,
      metrics: false,
      includeKeys: true,
      keySanitizer: () => {
        throw new Error('no');
      },
    });
    await t.sdk.inRequest(() =>
      operation({ operation: 'get', namespace: 'app:', key: 'user:43' }, async (op) => {
        op.outcome = 'miss';
      }),
    );
    const spans = find(t.sdk.spans(), 'cache.get');
    expect(spans).toHaveLength(2);
    expect(spans[1]?.attributes['cache.key']).toBeUndefined();
  });

  it('opens no root span of its own with requireParentSpan (the default)', async () => {
    otel = t.instrument({ tracerProvider: t.sdk.tracerProvider, metrics: false });
    await scenario();
    expect(t.sdk.spans()).toEqual([]);
  });

  it('opens root spans with requireParentSpan: false, with their loader and store spans as children', async () => {
    otel = t.instrument({ tracerProvider: t.sdk.tracerProvider, metrics: false, requireParentSpan: false });
    await scenario();
    const all = paths(t.sdk.spans());
    expect(all).toHaveLength(23);
    expect(all).toContain('cache.getOrSet > cache.load');
    expect(all).toContain('cache.getOrSet > write redis');
    expect(all.every((path) => path.startsWith('cache.'))).toBe(true);
    // A store operation outside any cache operation is a root span of its own.
    await store({ backend: 'redis', system: 'redis', operation: 'read', key: 'k' }, async () => undefined);
    expect(paths(t.sdk.spans()).at(-1)).toBe('read redis');
  });

  it('parents nested cache calls made by a loader under the loader span', async () => {
    otel = t.instrument({ tracerProvider: t.sdk.tracerProvider, metrics: false });
    await t.sdk.inRequest(() =>
      operation({ operation: 'getOrSet', namespace: 'app:', key: 'page:1' }, async (op) => {
        op.outcome = 'miss';
        await load({ namespace: 'app:', key: 'page:1', background: false }, async (run) => {
          await operation({ operation: 'get', namespace: 'app:', key: 'user:1' }, async (inner) => {
            inner.outcome = 'hit';
          });
          run.outcome = 'loaded';
        });
      }),
    );
    expect(paths(t.sdk.spans())).toContain('request > cache.getOrSet > cache.load > cache.get');
  });

  it('records no spans with traces: false, and none after disable()', async () => {
    otel = t.instrument({ tracerProvider: t.sdk.tracerProvider, metrics: false, traces: false });
    await t.sdk.inRequest(() => scenario());
    expect(t.sdk.spans().map((span) => span.name)).toEqual(['request']);
    otel = t.instrument({ tracerProvider: t.sdk.tracerProvider, metrics: false });
    otel.disable();
    await t.sdk.inRequest(() => scenario());
    expect(t.sdk.spans().map((span) => span.name)).toEqual(['request', 'request']);
  });
});
