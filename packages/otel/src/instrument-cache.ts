import { metrics, trace } from '@opentelemetry/api';
import { recordMetrics } from './metrics.js';
import { nodeRuntime } from './node-runtime.js';
import { type InstrumentCacheOptions, resolveOptions } from './options.js';
import { recordSpans } from './spans.js';

/** The instrumentation name on meters and tracers. */
const SCOPE = '@cache/otel';

/** What {@link instrumentCache} returns. */
export interface CacheInstrumentation {
  /** False where the runtime has no `diagnostics_channel` (nothing is recorded there). */
  readonly active: boolean;
  /** Unsubscribes from every channel and removes the gauge callbacks. Idempotent. */
  disable(): void;
}

/**
 * Turns what the `@cache` packages publish on `diagnostics_channel` (`cache:operation`, `cache:load`,
 * `cache:store`, `cache:event`) into OpenTelemetry metrics and spans. Call it once per process, at start-up:
 * two instrumentations on the same providers count everything twice.
 */
export function instrumentCache(options: InstrumentCacheOptions = {}): CacheInstrumentation {
  const resolved = resolveOptions(options);
  const runtime = nodeRuntime();
  if (runtime === undefined) return { active: false, disable() {} };
  const stops: (() => void)[] = [];
  if (resolved.metrics) {
    const meter = (resolved.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
    stops.push(recordMetrics(runtime, meter, resolved.memoryBackends));
  }
  if (resolved.traces) {
    const tracer = (resolved.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
    stops.push(recordSpans(runtime, tracer, resolved));
  }
  return {
    active: true,
    disable() {
      for (const stop of stops.splice(0)) stop();
    },
  };
}
