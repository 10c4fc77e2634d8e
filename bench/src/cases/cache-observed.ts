import type { JsonDocument } from '../data/documents.js';
import type { Case, Contender, Prepared } from '../harness/types.js';
import { type CacheModule, uninstrumentedCache } from '../harness/uninstrumented.js';

/** What the hit cases of this file need: the keys and the documents they hold. */
export interface ObservedHitData {
  readonly keys: readonly string[];
  readonly docs: readonly JsonDocument[];
}

type Cache = ReturnType<CacheModule['createCache']>;

const TTL_MS = 3_600_000;

/** The loader of the timed ops: a hit never calls it. */
function noLoad(): never {
  throw new Error('the hit case called the loader: the key was not cached');
}

/** A cache holding every key of `data`, made with `module`'s createCache. */
async function filledCache(module: CacheModule, data: ObservedHitData): Promise<Cache> {
  const { memoryBackend } = await import('@cache/memory');
  const cache = module.createCache({ store: memoryBackend({ maxEntries: data.keys.length }), ttlMs: TTL_MS });
  for (let i = 0; i < data.keys.length; i++) {
    const doc = data.docs[i];
    await cache.getOrSet(data.keys[i] as string, () => doc);
  }
  return cache;
}

/** A getOrSet hit contender over `cache`; `observe` subscribes for the contender's slots only. */
function hits(
  cache: Cache,
  data: ObservedHitData,
  observe?: () => Promise<() => Promise<void> | void>,
): Prepared {
  const mask = data.keys.length - 1;
  const prepared: Prepared = {
    async: true,
    op: (i) => cache.getOrSet(data.keys[i & mask] as string, noLoad),
    teardown: () => cache.close(),
  };
  if (observe === undefined) return prepared;
  let stop: (() => Promise<void> | void) | undefined;
  return {
    ...prepared,
    async enter() {
      stop = await observe();
    },
    leave: () => stop?.(),
  };
}

function reference(data: ObservedHitData): Contender {
  return {
    name: '@cache/cache getOrSet, diagnostics compiled out',
    role: 'reference',
    note: 'the same dist/ with `tracing.js` finding no channels (as on a runtime without `diagnostics_channel`).',
    setup: async () => hits(await filledCache(await uninstrumentedCache(), data), data),
  };
}

function noSubscriber(data: ObservedHitData): Contender {
  return {
    name: '@cache/cache getOrSet, nobody subscribed',
    role: 'ours',
    note: 'the published build, channels present, no subscriber: two boolean reads per call.',
    setup: async () => hits(await filledCache(await import('@cache/cache'), data), data),
  };
}

/**
 * `@cache/otel` metrics on, for this contender's slots only: `instrumentCache({ meterProvider, traces: false })`,
 * an SDK MeterProvider whose reader exports once a minute (never during a slot). Counts are read from `stats()` at
 * collection; a sample of the calls is traced for the latency histogram.
 */
function otelMetrics(data: ObservedHitData): Contender {
  return {
    name: '@cache/cache getOrSet, @cache/otel metrics on',
    role: 'ours',
    note: '`instrumentCache({ meterProvider, traces: false })` (SDK 2.12, cumulative), subscribed during its own slots.',
    async setup(): Promise<Prepared> {
      const { instrumentCache } = await import('@cache/otel');
      const sdk = await import('@opentelemetry/sdk-metrics');
      const reader = new sdk.PeriodicExportingMetricReader({
        exporter: new sdk.InMemoryMetricExporter(sdk.AggregationTemporality.CUMULATIVE),
        exportIntervalMillis: 60_000,
      });
      const meterProvider = new sdk.MeterProvider({ readers: [reader] });
      const cache = await filledCache(await import('@cache/cache'), data);
      const prepared = hits(cache, data, async () => {
        const instrumentation = instrumentCache({ meterProvider, traces: false });
        return () => instrumentation.disable();
      });
      return {
        ...prepared,
        teardown: async () => {
          await reader.shutdown();
          await prepared.teardown?.();
        },
      };
    },
  };
}

/** A no-op subscriber to every operation (what spans need), for this contender's slots only. */
function everyOperation(data: ObservedHitData): Contender {
  return {
    name: '@cache/cache getOrSet, cache:operation subscribed',
    role: 'ours',
    note: "a no-op `tracingChannel('cache:operation')` subscriber: every call is traced (the price of spans).",
    async setup(): Promise<Prepared> {
      const dc = await import('node:diagnostics_channel');
      const channel = dc.tracingChannel('cache:operation');
      const noop = (): void => undefined;
      const handlers = { start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop };
      return hits(await filledCache(await import('@cache/cache'), data), data, async () => {
        channel.subscribe(handlers);
        return () => void channel.unsubscribe(handlers);
      });
    },
  };
}

/**
 * The cost of being observed (issue 13), each against the build without diagnostics: no subscriber (target
 * ≥ 0.98), `@cache/otel` metrics (target ≥ 0.7), and every operation traced (no target: what spans cost).
 */
export function observedCases(data: ObservedHitData): Case[] {
  return [
    {
      name: 'getOrSet hit (memory), nobody subscribed',
      timing: { kind: 'batched' },
      expect: 'defined',
      target: { minRatio: 0.98, text: 'channels nobody listens to cost at most 2% of a hit' },
      contenders: [reference(data), noSubscriber(data)],
    },
    {
      name: 'getOrSet hit (memory), @cache/otel metrics on',
      timing: { kind: 'batched' },
      expect: 'defined',
      target: { minRatio: 0.7, text: 'metrics on cost at most 30% of a hit' },
      contenders: [reference(data), otelMetrics(data)],
    },
    {
      name: 'getOrSet hit (memory), every operation traced',
      timing: { kind: 'batched' },
      expect: 'defined',
      contenders: [reference(data), everyOperation(data)],
    },
  ];
}
