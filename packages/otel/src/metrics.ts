import type { Attributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import {
  type DiagnosticsEvent,
  type LoadContext,
  type ObservedCache,
  type OperationContext,
  observedCaches,
  type StoreContext,
} from '@cache/core';
import { errorType } from './error-type.js';
import { CACHE_ATTRIBUTES, CACHE_METRICS, DURATION_BUCKETS, SIZE_BUCKETS } from './names.js';
import { followTraces, listen, type NodeRuntime } from './node-runtime.js';
import type { ObservedMemoryBackend } from './options.js';

/** Buckets of `db.client.operation.duration`, as the database semantic conventions advise. */
const DB_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

const BREAKER_STATE = { closed: 0, 'half-open': 1, open: 2 } as const;

/** Subscribes the metrics to the channels; returns the unsubscription. */
export function recordMetrics(
  runtime: NodeRuntime,
  meter: Meter,
  memoryBackends: readonly ObservedMemoryBackend[],
): () => void {
  const duration = (name: string, description: string, buckets: readonly number[]) =>
    meter.createHistogram(name, {
      description,
      unit: 's',
      advice: { explicitBucketBoundaries: [...buckets] },
    });
  const operations = meter.createObservableCounter(CACHE_METRICS.operations, {
    description: "Cache operations, by operation, outcome and tier that answered (the caches' own counters).",
    unit: '{operation}',
  });
  const operationDuration = duration(
    CACHE_METRICS.operationDuration,
    'Duration of cache operations (a sample of them, see cache:operation:sample).',
    DURATION_BUCKETS,
  );
  const staleServed = meter.createObservableCounter(CACHE_METRICS.staleServed, {
    description: 'Stale values handed to callers.',
    unit: '{value}',
  });
  const failSafe = meter.createObservableCounter(CACHE_METRICS.failSafeActivations, {
    description: 'Stale values standing in for a failed or timed-out loader.',
    unit: '{activation}',
  });
  const loaderRuns = meter.createCounter(CACHE_METRICS.loaderRuns, {
    description: 'Loader runs, by outcome.',
    unit: '{run}',
  });
  const loaderDuration = duration(CACHE_METRICS.loaderDuration, 'Duration of loader runs.', DURATION_BUCKETS);
  const refreshes = meter.createCounter(CACHE_METRICS.refreshes, {
    description: 'Background refreshes (loader runs nobody waits for), by outcome.',
    unit: '{refresh}',
  });
  const breakerChanges = meter.createCounter(CACHE_METRICS.breakerStateChanges, {
    description: 'Circuit breaker state changes.',
    unit: '{change}',
  });
  const coherenceMessages = meter.createCounter(CACHE_METRICS.coherenceMessages, {
    description: 'Coherence messages received.',
    unit: '{message}',
  });
  const trustChanges = meter.createCounter(CACHE_METRICS.coherenceTrustChanges, {
    description: "Changes of trust in the memory tier's coherence.",
    unit: '{change}',
  });
  const storeDuration = duration(
    CACHE_METRICS.storeDuration,
    'Duration of database client operations.',
    DB_DURATION_BUCKETS,
  );
  const storePayload = meter.createHistogram(CACHE_METRICS.storePayloadSize, {
    description: 'Payload bytes read or written by a remote store operation.',
    unit: 'By',
    advice: { explicitBucketBoundaries: [...SIZE_BUCKETS] },
  });
  const breakerState = meter.createObservableGauge(CACHE_METRICS.breakerState, {
    description: "The breaker's last known state: 0 closed, 1 half-open, 2 open.",
    unit: '1',
  });
  const trusted = meter.createObservableGauge(CACHE_METRICS.coherenceTrusted, {
    description: '1 while the memory tier is trusted, 0 while it is not.',
    unit: '1',
  });
  const memoryEntries = meter.createObservableGauge(CACHE_METRICS.memoryEntries, {
    description: 'Entries held by a memory tier.',
    unit: '{entry}',
  });
  const memoryUsage = meter.createObservableGauge(CACHE_METRICS.memoryUsage, {
    description: 'Bytes held by a memory tier.',
    unit: 'By',
  });

  const breakers = new Map<string, number>();
  const trust = new Map<string, number>();
  const reportedSizes = new Map<string, { entries: number; bytes: number }>();

  const observeAll = (observer: BatchObservableResult): void => {
    observeCounters(observer, { operations, staleServed, failSafe });
    for (const [backend, value] of breakers)
      observer.observe(breakerState, value, { [CACHE_ATTRIBUTES.backend]: backend });
    for (const [backend, value] of trust)
      observer.observe(trusted, value, { [CACHE_ATTRIBUTES.backend]: backend });
    const sizes = new Map(reportedSizes);
    const polled = new Map<string, { entries: number; bytes: number }>();
    for (const memory of memoryBackends) {
      const sum = polled.get(memory.label) ?? { entries: 0, bytes: 0 };
      polled.set(memory.label, { entries: sum.entries + memory.size, bytes: sum.bytes + memory.bytes });
    }
    for (const [backend, size] of polled) sizes.set(backend, size);
    for (const [backend, { entries, bytes }] of sizes) {
      observer.observe(memoryEntries, entries, { [CACHE_ATTRIBUTES.backend]: backend });
      observer.observe(memoryUsage, bytes, { [CACHE_ATTRIBUTES.backend]: backend });
    }
  };
  const gauges = [operations, staleServed, failSafe, breakerState, trusted, memoryEntries, memoryUsage];
  meter.addBatchObservableCallback(observeAll, gauges);

  const stops = [
    followTraces<OperationContext>(runtime.tracingChannel('cache:operation:sample'), {
      finish(context, seconds) {
        operationDuration.record(seconds, operationAttributes(context));
      },
    }),
    followTraces<LoadContext>(runtime.tracingChannel('cache:load'), {
      finish(context, seconds) {
        const attributes: Attributes = {
          [CACHE_ATTRIBUTES.namespace]: context.namespace,
          [CACHE_ATTRIBUTES.background]: context.background,
          [CACHE_ATTRIBUTES.loaderOutcome]:
            context.outcome ?? (context.error === undefined ? 'loaded' : 'failed'),
        };
        if (context.error !== undefined) attributes[CACHE_ATTRIBUTES.errorType] = errorType(context.error);
        loaderRuns.add(1, attributes);
        loaderDuration.record(seconds, attributes);
        if (context.background) refreshes.add(1, attributes);
      },
    }),
    followTraces<StoreContext>(runtime.tracingChannel('cache:store'), {
      finish(context, seconds) {
        const attributes: Attributes = {
          [CACHE_ATTRIBUTES.dbSystem]: context.system,
          [CACHE_ATTRIBUTES.dbOperation]: context.operation,
          [CACHE_ATTRIBUTES.backend]: context.backend,
        };
        if (context.bytes !== undefined) storePayload.record(context.bytes, attributes);
        if (context.error !== undefined) attributes[CACHE_ATTRIBUTES.errorType] = errorType(context.error);
        storeDuration.record(seconds, attributes);
      },
    }),
    listen(runtime.channel('cache:event'), (message) => {
      const event = message as DiagnosticsEvent;
      switch (event.type) {
        case 'breaker':
          breakerChanges.add(1, {
            [CACHE_ATTRIBUTES.backend]: event.backend,
            [CACHE_ATTRIBUTES.breakerFrom]: event.from,
            [CACHE_ATTRIBUTES.breakerTo]: event.to,
          });
          breakers.set(event.backend, BREAKER_STATE[event.to]);
          break;
        case 'coherence-message':
          coherenceMessages.add(1, {
            [CACHE_ATTRIBUTES.backend]: event.backend,
            [CACHE_ATTRIBUTES.coherenceKind]: event.kind,
          });
          break;
        case 'coherence-trust':
          trustChanges.add(1, {
            [CACHE_ATTRIBUTES.backend]: event.backend,
            [CACHE_ATTRIBUTES.trusted]: event.trusted,
          });
          trust.set(event.backend, event.trusted ? 1 : 0);
          break;
        case 'memory-size':
          reportedSizes.set(event.backend, { entries: event.entries, bytes: event.bytes });
          break;
      }
    }),
  ];
  return () => {
    for (const stop of stops) stop();
    meter.removeBatchObservableCallback(observeAll, gauges);
  };
}

/** The instruments read from the caches' counters at each collection. */
interface CounterInstruments {
  readonly operations: Observable;
  readonly staleServed: Observable;
  readonly failSafe: Observable;
}

/**
 * Reads every live cache's `stats()` (through `observedCaches()` of `@cache/core`): exact counts that cost the
 * operations nothing. Caches of the same namespace are summed.
 */
function observeCounters(observer: BatchObservableResult, instruments: CounterInstruments): void {
  const sums = new Map<Observable, Map<string, { attributes: Attributes; value: number }>>();
  const add = (instrument: Observable, attributes: Attributes, value: number): void => {
    if (value === 0) return; // a series appears once it moves
    let points = sums.get(instrument);
    if (points === undefined) {
      points = new Map();
      sums.set(instrument, points);
    }
    const id = JSON.stringify(attributes);
    const point = points.get(id);
    if (point === undefined) points.set(id, { attributes, value });
    else point.value += value;
  };
  for (const cache of observedCaches()) {
    let stats: ReturnType<ObservedCache['stats']>;
    try {
      stats = cache.stats();
    } catch {
      continue; // a third-party cache whose stats() throws reports nothing, rather than failing the collection
    }
    const namespace = { [CACHE_ATTRIBUTES.namespace]: cache.prefix };
    const lookup = { ...namespace, [CACHE_ATTRIBUTES.operation]: 'lookup' };
    for (const [tier, hits] of Object.entries(stats.hitsBySource)) {
      add(
        instruments.operations,
        { ...lookup, [CACHE_ATTRIBUTES.outcome]: 'hit', [CACHE_ATTRIBUTES.tier]: tier },
        hits,
      );
    }
    const stale = { ...lookup, [CACHE_ATTRIBUTES.outcome]: 'stale' };
    add(
      instruments.operations,
      { ...stale, [CACHE_ATTRIBUTES.failSafe]: false },
      stats.staleHits - stats.failSafe,
    );
    add(instruments.operations, { ...stale, [CACHE_ATTRIBUTES.failSafe]: true }, stats.failSafe);
    add(instruments.operations, { ...lookup, [CACHE_ATTRIBUTES.outcome]: 'miss' }, stats.misses);
    for (const [operation, count] of [
      ['set', stats.sets],
      ['delete', stats.deletes],
      ['clear', stats.clears],
    ] as const) {
      add(instruments.operations, { ...namespace, [CACHE_ATTRIBUTES.operation]: operation }, count);
    }
    add(instruments.staleServed, namespace, stats.staleHits);
    add(instruments.failSafe, namespace, stats.failSafe);
  }
  for (const [instrument, points] of sums) {
    for (const { attributes, value } of points.values()) observer.observe(instrument, value, attributes);
  }
}

/** The attributes of `cache.operation.duration`; never the key. */
function operationAttributes(context: OperationContext): Attributes {
  const attributes: Attributes = {
    [CACHE_ATTRIBUTES.operation]: context.operation,
    [CACHE_ATTRIBUTES.namespace]: context.namespace,
  };
  if (context.outcome !== undefined) attributes[CACHE_ATTRIBUTES.outcome] = context.outcome;
  if (context.source !== undefined) attributes[CACHE_ATTRIBUTES.tier] = context.source;
  if (context.outcome === 'stale') attributes[CACHE_ATTRIBUTES.failSafe] = context.failSafe === true;
  if (context.error !== undefined) attributes[CACHE_ATTRIBUTES.errorType] = errorType(context.error);
  return attributes;
}
