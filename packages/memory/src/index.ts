export type { MemoryBackend } from './memory-backend.js';
export { memoryBackend } from './memory-backend.js';
export type { MemoryBackendOptions } from './options.js';
export { defaultSizeOf, ENTRY_OVERHEAD_BYTES, ESTIMATE_MAX_ITEMS, estimateSize } from './size-of.js';
