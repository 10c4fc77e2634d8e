export type { BackoffOptions } from './backoff.js';
export { reconnectStrategy, resolveBackoff } from './backoff.js';
export { FIELDS as ENTRY_FIELDS } from './entry-layout.js';
export type {
  NodeRedisClient,
  NodeRedisCluster,
  NodeRedisClusterMulti,
  NodeRedisMulti,
  RedisArg,
} from './node-redis.js';
export type {
  RedisBackendOptions,
  RedisBackendSettings,
  RedisClusterTarget,
  RedisTarget,
  RedisTlsOptions,
} from './options.js';
export { RedisBackend } from './redis-backend.js';
