export type { PgBackendOptions } from './pg-backend.js';
export { createPgBackend, PgBackend } from './pg-backend.js';
export type { PgStoreConfig } from './pg-store.js';
export { PgStore } from './pg-store.js';
export { json } from './json-format.js';
