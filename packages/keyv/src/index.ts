export type { StoreListener } from './events.js';
export { StoreEvents } from './events.js';
export type { KeyvStoreEntry } from './keyv-cache-store.js';
export { KeyvCacheStore } from './keyv-cache-store.js';
export type { KeyvCacheStoreOptions, ResolvedKeyvCacheStoreOptions } from './options.js';
export { resolveOptions } from './options.js';
export { scopePrefix } from './scope.js';
