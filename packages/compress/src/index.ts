export type { GzipCompressor, GzipImplementation, GzipOptions } from './gzip.js';
export { DEFAULT_GZIP_LEVEL, gzip } from './gzip.js';
export type { ZstdCompressor, ZstdImplementation, ZstdOptions } from './zstd.js';
export { DEFAULT_ZSTD_LEVEL, initZstd, MAX_ZSTD_LEVEL, MIN_ZSTD_LEVEL, zstd, zstdSync } from './zstd.js';
