import { CacheError, type ClearableBackend, type CacheBackend, type CompositionOptions } from '@cache/core';
import type { RedisTlsOptions } from '../options.js';
import type { CoherenceErrorEvent, TrustChange } from './events.js';

/** Where the invalidation messages travel: the Redis (or Redis Cluster) that holds the shared tier. */
export type CoherenceRedisTarget = (
  | {
      /** Single node: `redis[s]://[[username][:password]@]host[:port]`. */
      readonly url: string;
      readonly cluster?: never;
    }
  | {
      /** A Redis Cluster (7+): messages use sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`). */
      readonly cluster: { readonly nodes: ReadonlyArray<string> };
      readonly url?: never;
    }
) & {
  /** ACL username; overrides one in the URL. @default none */
  readonly username?: string;
  /** Password; overrides one in the URL. Never shown in errors or logs. @default none */
  readonly password?: string;
  /** TLS: `true` for Node's defaults, or certificate options. `rediss://` turns it on. @default false */
  readonly tls?: boolean | RedisTlsOptions;
  /** Time allowed to open one connection, in milliseconds. @default 5000 */
  readonly connectTimeoutMs?: number;
};

/** Options of {@link coherentTiers}. */
export interface CoherentTiersOptions<L1 extends ClearableBackend, L2 extends CacheBackend> {
  /** The in-process tier, private to this process. It needs `clear()` (the memory backend has it). */
  readonly l1: L1;
  /** The shared tier every process reads and writes: a `RedisBackend`, or a composition whose far layer is one. */
  readonly l2: L2;
  /** The Redis that carries the invalidation messages: the one `l2` stores its entries in. */
  readonly redis: CoherenceRedisTarget;
  /**
   * Base name of the pub/sub channels. Every process sharing `l2` must use the same. Invalidations go to
   * `{<channel>}:inv`, heartbeats to `{<channel>}:hb:<instanceId>` (one hash slot, so one shard on a cluster).
   * @default `"cache-coherence:" + namespace` of the far `RedisBackend`, else `"cache-coherence"`
   */
  readonly channel?: string;
  /**
   * The stated bound: after another process's `set` or `delete` has resolved, this process serves its old L1
   * copy for at most this long, whatever happens to the network (normally for about one round trip). While
   * heartbeats are not confirmed within it, reads skip L1 and go to the far tier.
   * @default 3000
   */
  readonly maxStalenessMs?: number;
  /** How often the heartbeat that proves the channel works is sent. At most half of `maxStalenessMs`. @default 1000 */
  readonly heartbeatIntervalMs?: number;
  /** Deadline of one publish, in milliseconds. @default 2000 */
  readonly publishTimeoutMs?: number;
  /**
   * Options of the underlying composition (label, policies, its own `onError`). Writes are strict by default
   * (`writePolicy: "sequential"`: a `set` fails, and L1 drops the new value, unless L2 stored it too), since a value
   * only this process holds would be announced to the others while they keep reading the old one from L2.
   * @default compose's defaults, with writePolicy "sequential"
   */
  readonly composition?: CompositionOptions;
  /**
   * Receives the coherence layer's own failures (subscribing, heartbeats, publishing for refills, malformed
   * messages). Each outage is reported once, not once per heartbeat. It must not throw.
   * @default one `console.warn` line per report
   */
  readonly onError?: (event: CoherenceErrorEvent) => void;
  /** Told when L1 becomes trusted (heartbeat confirmed) or stops being trusted, with the reason. @default none */
  readonly onTrustChange?: (change: TrustChange) => void;
  /** Monotonic clock in milliseconds, for tests. @default performance.now */
  readonly clock?: () => number;
}

/** {@link CoherentTiersOptions} after validation. */
export interface ResolvedCoherenceSettings {
  readonly channel: string;
  readonly maxStalenessMs: number;
  readonly heartbeatIntervalMs: number;
  readonly publishTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly onError: (event: CoherenceErrorEvent) => void;
  readonly onTrustChange: ((change: TrustChange) => void) | undefined;
  readonly clock: () => number;
}

function invalid(message: string): CacheError {
  return new CacheError('INVALID_OPTIONS', `coherentTiers: ${message}`);
}

function positive(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(`${name} must be a positive number of milliseconds`);
  }
  return value;
}

/** The default `onError`: one line, so nothing the layer keeps going after is silent. */
export function warnOnConsole(event: CoherenceErrorEvent): void {
  console.warn(`[cache] coherence "${event.channel}" ${event.operation}: ${event.error.message}`);
}

/** Checks the options and applies defaults; `namespace` is the far Redis backend's, when there is one. */
export function resolveCoherenceSettings(
  options: CoherentTiersOptions<ClearableBackend, CacheBackend>,
  namespace: string | undefined,
): ResolvedCoherenceSettings {
  if (typeof options !== 'object' || options === null) throw invalid('options are required');
  if (typeof (options.l1 as Partial<ClearableBackend> | undefined)?.clear !== 'function') {
    throw invalid('l1 must have clear(), to drop what it can no longer trust after a disconnect');
  }
  const redis = options.redis as Partial<CoherenceRedisTarget> | undefined;
  if (
    typeof redis !== 'object' ||
    redis === null ||
    (redis.url === undefined) === (redis.cluster === undefined)
  ) {
    throw invalid('redis must give exactly one of url or cluster');
  }
  const channel =
    options.channel ?? (namespace === undefined ? 'cache-coherence' : `cache-coherence:${namespace}`);
  if (typeof channel !== 'string' || channel === '') throw invalid('channel must be a non-empty string');
  const maxStalenessMs = positive(options.maxStalenessMs, 3000, 'maxStalenessMs');
  const heartbeatIntervalMs = positive(options.heartbeatIntervalMs, 1000, 'heartbeatIntervalMs');
  if (heartbeatIntervalMs * 2 > maxStalenessMs) {
    throw invalid('heartbeatIntervalMs must be at most half of maxStalenessMs');
  }
  const onError = options.onError ?? warnOnConsole;
  if (typeof onError !== 'function') throw invalid('onError must be a function');
  if (options.onTrustChange !== undefined && typeof options.onTrustChange !== 'function') {
    throw invalid('onTrustChange must be a function');
  }
  const clock = options.clock ?? (() => performance.now());
  if (typeof clock !== 'function') throw invalid('clock must be a function');
  return {
    channel,
    maxStalenessMs,
    heartbeatIntervalMs,
    publishTimeoutMs: positive(options.publishTimeoutMs, 2000, 'publishTimeoutMs'),
    connectTimeoutMs: positive(redis.connectTimeoutMs, 5000, 'redis.connectTimeoutMs'),
    onError,
    onTrustChange: options.onTrustChange,
    clock,
  };
}
