/**
 * The metric names `@cache/otel` records, for views, dashboards and alerts. Stable: they are part of the API.
 * `db.client.operation.duration` is the OpenTelemetry semantic convention; every `cache.*` name is ours (there is
 * no cache namespace in the conventions).
 */
export const CACHE_METRICS: {
  /**
   * Observable counter: cache operations (`lookup`, `set`, `delete`, `clear`) by outcome, tier that answered and
   * fail-safe, read from each cache's `stats()` at collection.
   */
  readonly operations: 'cache.operations';
  /** Histogram (s): cache operation duration, for a sample of the operations (`cache:operation:sample`). */
  readonly operationDuration: 'cache.operation.duration';
  /** Observable counter: stale values handed to callers (a subset of `cache.operations`, kept apart for alerts). */
  readonly staleServed: 'cache.stale.served';
  /** Observable counter: stale values standing in for a failed or timed-out loader. */
  readonly failSafeActivations: 'cache.fail_safe.activations';
  /** Counter: loader runs by outcome (errors are `failed`, timeouts `timeout`). */
  readonly loaderRuns: 'cache.loader.runs';
  /** Histogram (s): loader run duration. */
  readonly loaderDuration: 'cache.loader.duration';
  /** Counter: background refreshes (loader runs nobody waits for), by outcome. */
  readonly refreshes: 'cache.refreshes';
  /** Counter: circuit breaker state changes. */
  readonly breakerStateChanges: 'cache.breaker.state_changes';
  /** Gauge: the breaker's last known state (0 closed, 1 half-open, 2 open). */
  readonly breakerState: 'cache.breaker.state';
  /** Counter: coherence messages received (invalidations, heartbeats). */
  readonly coherenceMessages: 'cache.coherence.messages';
  /** Counter: changes of trust in the memory tier's coherence. */
  readonly coherenceTrustChanges: 'cache.coherence.trust_changes';
  /** Gauge: 1 while the memory tier is trusted, 0 while it is not. */
  readonly coherenceTrusted: 'cache.coherence.trusted';
  /** Histogram (s): remote store operation duration (OpenTelemetry database semantic convention). */
  readonly storeDuration: 'db.client.operation.duration';
  /** Histogram (By): payload bytes read or written by a remote store operation. */
  readonly storePayloadSize: 'cache.store.payload.size';
  /** Gauge: entries held by a memory tier. */
  readonly memoryEntries: 'cache.memory.entries';
  /** Gauge (By): bytes held by a memory tier (its `sizeOf` total). */
  readonly memoryUsage: 'cache.memory.usage';
} = Object.freeze({
  operations: 'cache.operations',
  operationDuration: 'cache.operation.duration',
  staleServed: 'cache.stale.served',
  failSafeActivations: 'cache.fail_safe.activations',
  loaderRuns: 'cache.loader.runs',
  loaderDuration: 'cache.loader.duration',
  refreshes: 'cache.refreshes',
  breakerStateChanges: 'cache.breaker.state_changes',
  breakerState: 'cache.breaker.state',
  coherenceMessages: 'cache.coherence.messages',
  coherenceTrustChanges: 'cache.coherence.trust_changes',
  coherenceTrusted: 'cache.coherence.trusted',
  storeDuration: 'db.client.operation.duration',
  storePayloadSize: 'cache.store.payload.size',
  memoryEntries: 'cache.memory.entries',
  memoryUsage: 'cache.memory.usage',
});

/** Attribute names (`db.*` and `error.type` from the semantic conventions, `cache.*` ours). */
export const CACHE_ATTRIBUTES = Object.freeze({
  operation: 'cache.operation',
  namespace: 'cache.namespace',
  key: 'cache.key',
  outcome: 'cache.outcome',
  tier: 'cache.tier',
  failSafe: 'cache.fail_safe',
  background: 'cache.loader.background',
  loaderOutcome: 'cache.loader.outcome',
  backend: 'cache.backend',
  breakerFrom: 'cache.breaker.from',
  breakerTo: 'cache.breaker.to',
  coherenceKind: 'cache.coherence.kind',
  trusted: 'cache.coherence.trusted',
  storeBytes: 'cache.store.payload.size',
  dbSystem: 'db.system.name',
  dbOperation: 'db.operation.name',
  errorType: 'error.type',
} as const);

/** Buckets for cache operations and loaders: from 10 µs (a memory hit) to 10 s (a slow loader). */
export const DURATION_BUCKETS: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
  0.5, 1, 2.5, 5, 10,
];

/** Buckets for payload sizes: 64 B to 16 MiB. */
export const SIZE_BUCKETS: readonly number[] = [
  64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216,
];
