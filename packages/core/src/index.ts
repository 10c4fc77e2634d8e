export type { Awaitable } from './awaitable.js';
export { isPromiseLike } from './awaitable.js';
export type { Backend, BackendCapabilities, CacheBackend, ReadInfo } from './backend.js';
export { canonicalPrefix } from './backend.js';
export { BackendLabel } from './backend-label.js';
export type { BatchDelete, BatchEntry, BatchRead, BatchWrite } from './batch.js';
export {
  batchError,
  checkEntries,
  checkKeys,
  deleteEach,
  deleteMany,
  distinctKeys,
  getEach,
  getMany,
  setEach,
  setMany,
} from './batch.js';
export type { CacheKeyOptions, KeyPart, KeyPartsInput } from './cache-key.js';
export { CacheKey } from './cache-key.js';
export type { CacheLifetime, CacheState } from './cache-value.js';
export { CacheValue } from './cache-value.js';
export type { Compressor } from './compressor.js';
export { DEFAULT_MAX_DECOMPRESSED_BYTES, passthrough } from './compressor.js';
export { DeleteStatus } from './delete-status.js';
export type { CacheErrorCode, CacheErrorDetails, CacheOperation } from './errors.js';
export { CacheError } from './errors.js';
export type { Format } from './format.js';
export type { KeyFormat } from './key-format/key-format.js';
export { urlDecodeKey, urlEncodeKey, urlEncoded } from './key-format/url-encoded.js';
export { bitcode } from './key-format/bitcode.js';
export type { TypedLayerOptions } from './typed-backend.js';
export { decodeValue, encodeValue, TypedBackend, toCacheBackend } from './typed-backend.js';

// Composition: tiers (L1 in front of L2) that are themselves backends, and a fault-injecting wrapper.
export type { ClearableBackend } from './composition/composition.js';
export { Composition, compose } from './composition/composition.js';
export type {
  CompositionErrorEvent,
  CompositionEvent,
  CompositionListener,
  LayerName,
  SwallowedOperation,
} from './composition/events.js';
export type { Fault, FaultPoint, FaultyOperation } from './composition/faulty.js';
export { FaultyBackend, faulty } from './composition/faulty.js';
export type {
  CompositionOptions,
  RaceLoserPolicy,
  ReadPolicy,
  RefillPolicy,
  ResolvedCompositionOptions,
  WritePolicy,
} from './composition/options.js';

// Failure envelope: a circuit breaker with a bound on calls in flight, and the backend decorator built on it.
export type { BreakerCallDetails } from './breaker/circuit-breaker.js';
export { CircuitBreaker } from './breaker/circuit-breaker.js';
export { BreakerBackend, breaker } from './breaker/breaker-backend.js';
export type {
  BreakerCounters,
  BreakerListener,
  BreakerReason,
  BreakerState,
  BreakerStateChange,
} from './breaker/events.js';
export type { BreakerOptions, ResolvedBreakerOptions } from './breaker/options.js';
export { BREAKER_DEFAULTS, isRetryableFailure, resolveBreakerOptions } from './breaker/options.js';

// Diagnostics: what the packages publish on diagnostics_channel (for @cache/otel and other subscribers).
export type {
  Diagnostics,
  DiagnosticsEvent,
  LoadContext,
  ObservedCache,
  ObservedCacheStats,
  OperationContext,
  PointChannel,
  StoreContext,
  TracedOperation,
  Tracing,
} from './diagnostics.js';
export {
  DIAGNOSTICS_CHANNELS,
  diagnostics,
  OPERATION_SAMPLING,
  observeCache,
  observedCaches,
  unobserveCache,
} from './diagnostics.js';

// Locks: one loader per key across processes (leases with tokens and fences), and the in-process reference.
export type { AcquireOptions, AcquireResult, Lease, LockStore, WaitOptions } from './locks/lock-store.js';
export { LeasedValue, leaseOf } from './locks/leased-value.js';
export type { MemoryLocksOptions } from './locks/memory-locks.js';
export { lockToken, MemoryLocks, memoryLocks } from './locks/memory-locks.js';
