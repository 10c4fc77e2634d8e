export type { ResolvedUndiciCacheStoreOptions, UndiciCacheStoreOptions } from './options.js';
export { UNDICI_CACHE_STORE_DEFAULTS } from './options.js';
export { UndiciCacheStore, undiciCacheStore } from './undici-cache-store.js';
export type {
  UndiciCacheControlDirectives,
  UndiciCacheKey,
  UndiciCacheValue,
  UndiciGetResult,
  UndiciHeaderValue,
  UndiciStoreContract,
} from './undici-types.js';
