export type { CacheEvent, CacheEventType, CacheStats, StaleReason } from './events.js';
export type { LateResult, Loader, LoaderContext } from './flight.js';
export type { KeyInput } from './keys.js';
export type {
  CacheOptions,
  GetOptions,
  GetOrSetOptions,
  LifetimeOptions,
  StalePolicy,
  StoreErrorPolicy,
} from './options.js';
export { DEFAULT_TTL_MS } from './options.js';
export type { BatchLoader, BatchLoaderContext } from './batch.js';
export type { SetManyEntry } from './batch-calls.js';
export type { WrapOptions } from './cache.js';
export type { InvalidateTagsOptions, InvalidationMode } from './tags.js';
export { Cache, createCache } from './cache.js';
