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

// Coherence: memory tiers kept in sync across processes through Redis pub/sub.
export type {
  CoherenceErrorEvent,
  CoherenceOperation,
  CoherenceStats,
  TrustChange,
} from './coherence/events.js';
export type { Channels as CoherenceChannels } from './coherence/messages.js';
export type {
  CoherenceRedisTarget,
  CoherentTiersOptions,
  ResolvedCoherenceSettings,
} from './coherence/options.js';
export { CoherentTiers, coherentTiers } from './coherence/coherent-tiers.js';

// Locks: one loader per key across processes sharing Redis (leases, fencing, release notices).
export type { RedisLocksOptions, RedisLocksSettings } from './locks/options.js';
export { RedisLease, RedisLocks, redisLocks } from './locks/redis-locks.js';
