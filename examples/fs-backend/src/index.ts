export type { FsBackendOptions } from './fs-backend.js';
export { createFsBackend, FsBackend } from './fs-backend.js';
export type { FsStoreConfig, SweepReport } from './fs-store.js';
export { FsStore } from './fs-store.js';
export { json } from './json-format.js';
export { jsonKeys } from './json-key-format.js';
