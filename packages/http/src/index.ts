export type { Body, Collected } from './body.js';
export type { Directives } from './cache-control.js';
export { parseCacheControl } from './cache-control.js';
export type { CacheStatus, ForwardReason } from './cache-status.js';
export { formatCacheStatus } from './cache-status.js';
export type { HeaderList, RequestHeaders } from './headers.js';
export { nodeRequestHeaders } from './headers.js';
export { createHttpCache, HttpCache } from './http-cache.js';
export type { FailSafe, HttpCacheOptions, StalePolicy } from './options.js';
export type { CacheResponse, Handled, Origin, OriginResponse, RequestChanges } from './origin.js';
export type { KeyExtractor, KeyPartTuple } from './policy/extractors.js';
export {
  DEFAULT_KEY,
  keyHeaders,
  keyHost,
  keyMethod,
  keyPath,
  keyPathParams,
  keyQuery,
} from './policy/extractors.js';
export type { RequestPredicate, ResponsePredicate } from './policy/predicates.js';
export {
  all,
  any,
  headerHas,
  methodIs,
  not,
  pathMatches,
  queryHas,
  responseHeaderHas,
  statusIn,
} from './policy/predicates.js';
export type { CacheRequest, ResponseHead } from './policy/request.js';
export type { HttpCacheStats } from './stats.js';
export type { FreshnessOverride, StoredResource, StoredResponse } from './stored-response.js';
export type {
  ResolvedUndiciCacheStoreOptions,
  UndiciCacheControlDirectives,
  UndiciCacheKey,
  UndiciCacheStoreOptions,
  UndiciCacheValue,
  UndiciGetResult,
  UndiciHeaderValue,
  UndiciStoreContract,
} from './undici/index.js';
export { UNDICI_CACHE_STORE_DEFAULTS, UndiciCacheStore, undiciCacheStore } from './undici/index.js';
export type { CacheFetchOptions, FetchHandler } from './adapters/fetch.js';
export { cacheFetch } from './adapters/fetch.js';
export type { Middleware } from './adapters/node.js';
export { cacheMiddleware, nodeRequest } from './adapters/node.js';
