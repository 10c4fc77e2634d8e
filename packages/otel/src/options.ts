import type { MeterProvider, TracerProvider } from '@opentelemetry/api';

/** A memory tier to observe: `@cache/memory`'s `MemoryBackend` fits as it is. */
export interface ObservedMemoryBackend {
  /** The `cache.backend` attribute of its gauges. */
  readonly label: string;
  /** Entries held. */
  readonly size: number;
  /** Bytes held (its `sizeOf` total). */
  readonly bytes: number;
}

/** Options of {@link instrumentCache}. */
export interface InstrumentCacheOptions {
  /**
   * Where the metrics go.
   * @default the global meter provider (`metrics.getMeterProvider()`)
   */
  readonly meterProvider?: MeterProvider;
  /**
   * Where the spans go.
   * @default the global tracer provider (`trace.getTracerProvider()`)
   */
  readonly tracerProvider?: TracerProvider;
  /**
   * Record metrics.
   * @default true
   */
  readonly metrics?: boolean;
  /**
   * Record spans.
   * @default true
   */
  readonly traces?: boolean;
  /**
   * Open a span only under an existing one (a request's span, say): a cache call outside any trace makes no root
   * span of its own, and neither do its loader and store operations.
   * @default true
   */
  readonly requireParentSpan?: boolean;
  /**
   * Put the key (`cache.key`) on spans. Keys never go on metrics (unbounded cardinality). Leave it off when keys
   * carry personal data, or pass a `keySanitizer`.
   * @default false
   */
  readonly includeKeys?: boolean;
  /**
   * Rewrites a key before it goes on a span (with `includeKeys`), e.g. to mask an e-mail address. A sanitizer that
   * throws drops the attribute.
   * @default the key as it is
   */
  readonly keySanitizer?: (key: string) => string;
  /**
   * Memory tiers whose `size` and `bytes` are read at each collection, for `cache.memory.entries` and
   * `cache.memory.usage`. Tiers reported by `memory-size` events are observed without this option.
   * @default []
   */
  readonly memoryBackends?: readonly ObservedMemoryBackend[];
}

/** The options with their defaults applied. */
export interface ResolvedOptions {
  readonly meterProvider: MeterProvider | undefined;
  readonly tracerProvider: TracerProvider | undefined;
  readonly metrics: boolean;
  readonly traces: boolean;
  readonly requireParentSpan: boolean;
  readonly keyAttribute: ((key: string | undefined) => string | undefined) | undefined;
  readonly memoryBackends: readonly ObservedMemoryBackend[];
}

/** Applies the defaults, in one place. */
export function resolveOptions(options: InstrumentCacheOptions): ResolvedOptions {
  const {
    meterProvider,
    tracerProvider,
    metrics = true,
    traces = true,
    requireParentSpan = true,
    includeKeys = false,
    keySanitizer,
    memoryBackends = [],
  } = options;
  if (keySanitizer !== undefined && typeof keySanitizer !== 'function') {
    throw new TypeError('@cache/otel: keySanitizer must be a function');
  }
  return {
    meterProvider,
    tracerProvider,
    metrics,
    traces,
    requireParentSpan,
    keyAttribute: includeKeys ? keyAttribute(keySanitizer) : undefined,
    memoryBackends: [...memoryBackends],
  };
}

function keyAttribute(sanitizer: ((key: string) => string) | undefined) {
  return (key: string | undefined): string | undefined => {
    if (key === undefined || sanitizer === undefined) return key;
    try {
      const clean = sanitizer(key);
      return typeof clean === 'string' ? clean : undefined;
    } catch {
      return undefined;
    }
  };
}
