import { type Attributes, context, type Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach } from 'vitest';
import { type CacheInstrumentation, type InstrumentCacheOptions, instrumentCache } from '../src/index.js';
import {
  type DiagnosticsEvent,
  diagnostics,
  type LoadContext,
  type OperationContext,
  type StoreContext,
} from '@cache/core';

/**
 * For the tests of the calling `describe`: a fresh SDK before each, and after each every instrumentation made
 * through `instrument` disabled and the SDK shut down.
 */
export function sdkPerTest(): {
  readonly sdk: ReturnType<typeof otelSdk>;
  instrument(options: InstrumentCacheOptions): CacheInstrumentation;
} {
  let sdk: ReturnType<typeof otelSdk> | undefined;
  const made: CacheInstrumentation[] = [];
  beforeEach(() => {
    sdk = otelSdk();
  });
  afterEach(async () => {
    for (const instrumentation of made.splice(0)) instrumentation.disable();
    await sdk?.shutdown();
  });
  return {
    get sdk() {
      if (sdk === undefined) throw new Error('sdkPerTest: no test is running');
      return sdk;
    },
    instrument(options) {
      const instrumentation = instrumentCache(options);
      made.push(instrumentation);
      return instrumentation;
    },
  };
}

/** A reader collected by hand (no timers). */
class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** One point, simplified: counters and gauges give `value`, histograms `count` (and `sum` when asked). */
export interface Point {
  readonly attributes: Attributes;
  readonly value?: number;
  readonly count?: number;
}

/** The real OTel SDK with in-memory outputs and the AsyncLocalStorage context manager. */
export function otelSdk() {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = tracerProvider.getTracer('test');
  return {
    meterProvider,
    tracerProvider,
    /** Every metric by name, its points sorted by attributes. */
    async collect(): Promise<Record<string, Point[]>> {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      const out: Record<string, Point[]> = {};
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          const points = metric.dataPoints.map((point): Point => {
            if (metric.dataPointType === DataPointType.HISTOGRAM) {
              return { attributes: point.attributes, count: (point.value as { count: number }).count };
            }
            return { attributes: point.attributes, value: point.value as number };
          });
          if (points.length > 0) out[metric.descriptor.name] = sortPoints(points);
        }
      }
      return out;
    },
    /** The unit and type of one instrument. */
    async descriptor(name: string) {
      const { resourceMetrics } = await reader.collect();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          if (metric.descriptor.name === name)
            return { unit: metric.descriptor.unit, type: metric.dataPointType };
        }
      }
      return undefined;
    },
    /** The sum of the histogram points of `name` whose attributes include `match`. */
    async histogramSum(name: string, match: Attributes): Promise<number> {
      const { resourceMetrics } = await reader.collect();
      let total = 0;
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          if (metric.descriptor.name !== name) continue;
          for (const point of metric.dataPoints) {
            const matches = Object.entries(match).every(([k, v]) => point.attributes[k] === v);
            if (matches) total += (point.value as { sum: number }).sum;
          }
        }
      }
      return total;
    },
    spans(): ReadableSpan[] {
      return exporter.getFinishedSpans();
    },
    /** Runs `fn` under an active span of the test's own (the request a cache call serves). */
    inRequest<T>(fn: (span: Span) => Promise<T>): Promise<T> {
      return tracer.startActiveSpan('request', async (span) => {
        try {
          return await fn(span);
        } finally {
          span.end();
        }
      });
    },
    async shutdown(): Promise<void> {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
      contextManager.disable();
      context.disable();
      trace.disable();
    },
  };
}

export function sortPoints(points: Point[]): Point[] {
  const text = (point: Point) => JSON.stringify(Object.entries(point.attributes).sort());
  return points.sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
}

const channels = diagnostics()!;

/**
 * Publishes an operation trace as `@cache/cache` does for an operation that falls in the sample: on
 * `cache:operation` (spans) with the `cache:operation:sample` trace (the duration histogram) inside it, one context
 * for both. Async by default, `traceSync` for a memory hit.
 */
export function operation<T>(
  fields: Pick<OperationContext, 'operation' | 'namespace' | 'key'>,
  body: (context: OperationContext) => Promise<T>,
): Promise<T> {
  const context: OperationContext = { ...fields };
  return channels.operation.tracePromise(
    () => channels.operationSample.tracePromise(() => body(context), context),
    context,
  );
}

export function syncOperation<T>(
  fields: Pick<OperationContext, 'operation' | 'namespace' | 'key'>,
  body: (context: OperationContext) => T,
): T {
  const context: OperationContext = { ...fields };
  return channels.operation.traceSync(
    () => channels.operationSample.traceSync(() => body(context), context),
    context,
  );
}

export function load<T>(
  fields: Pick<LoadContext, 'namespace' | 'key' | 'background'>,
  body: (context: LoadContext) => Promise<T>,
): Promise<T> {
  const context: LoadContext = { ...fields };
  return channels.load.tracePromise(() => body(context), context);
}

export function store<T>(
  fields: Pick<StoreContext, 'backend' | 'system' | 'operation' | 'key'>,
  body: (context: StoreContext) => Promise<T>,
): Promise<T> {
  const context: StoreContext = { ...fields };
  return channels.store.tracePromise(() => body(context), context);
}

export function publish(event: DiagnosticsEvent): void {
  channels.event.publish(event);
}

/** An error as the packages throw them: a string `code`, a message that must never reach an attribute. */
export function cacheError(code: string, message = 'secret-token-1234 in the message'): Error {
  return Object.assign(new Error(message), { code });
}

export const hasSubscribers = (): boolean =>
  channels.operation.hasSubscribers ||
  channels.operationSample.hasSubscribers ||
  channels.load.hasSubscribers ||
  channels.store.hasSubscribers ||
  channels.event.hasSubscribers;
