export type { CacheInstrumentation } from './instrument-cache.js';
export { instrumentCache } from './instrument-cache.js';
export type { InstrumentCacheOptions, ObservedMemoryBackend } from './options.js';
export { CACHE_ATTRIBUTES, CACHE_METRICS } from './names.js';
