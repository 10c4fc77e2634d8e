import type { BreakerOptions } from '@cache/core';
import type { BackoffOptions } from '../backoff.js';
import type { RedisTarget, RedisTlsOptions } from '../options.js';
import type { RedisBackend } from '../redis-backend.js';

/** Everything but the connection target. Every option has a default. */
export interface RedisLocksSettings {
  /** Name in reports, errors and breaker events. @default "redis-locks" */
  readonly label?: string;
  /**
   * The backend whose entries the locks guard. Given it, lock keys sit in the same cluster slot as its entries, and
   * a value written to it by a lease holder (`@cache/cache` does this) is fenced: the write checks, in the same
   * atomic script, that the lease is still held, and is refused with `LEASE_LOST` otherwise. It must use the same
   * Redis as the locks. Without it, the locks still elect one loader per key, but writes are not fenced.
   */
  readonly backend?: RedisBackend;
  /**
   * Start of every key and channel the locks use, e.g. `"myapp:lock:"`, so ACL patterns can cover them.
   * @default the backend's namespace + `"lock:"`, or `"lock:"`
   */
  readonly prefix?: string;
  /** Length of a lease, in milliseconds: a holder that dies holds its keys this long at most. @default 10000 */
  readonly leaseMs?: number;
  /**
   * How long a waiter waits for a release notice before it looks again by itself, in milliseconds: the most a lost
   * notice costs. @default 1000
   */
  readonly pollMs?: number;
  /**
   * Lifetime of a key's fence counter after its last lease, in milliseconds. Fences keep growing after it expired
   * (they never go below the server's clock in microseconds). @default 86400000 (one day)
   */
  readonly fenceTtlMs?: number;
  /** Deadline of every lock command, including any wait for a connection, in milliseconds. @default 2000 */
  readonly responseTimeoutMs?: number;
  /** Time allowed to open a connection, per attempt, in milliseconds. @default 5000 */
  readonly connectTimeoutMs?: number;
  /**
   * The circuit breaker every lock command goes through: while it is open, lock commands fail at once, and
   * `@cache/cache` falls back to its in-process lock. `false` turns it off.
   * @default on: failureThreshold 3, openMs 5000, the store's label
   */
  readonly breaker?: BreakerOptions | false;
  /** ACL username; overrides one in the URL. */
  readonly username?: string;
  /** Password; overrides one in the URL. Never shown in errors or logs. */
  readonly password?: string;
  /** Database number (single node only); overrides one in the URL. @default 0 */
  readonly database?: number;
  /** TLS: `true` for Node's defaults, or certificate options. `rediss://` URLs turn it on. @default false */
  readonly tls?: boolean | RedisTlsOptions;
  /** Reconnection policy of the connections the store opens. @default retries Infinity, base 2, 50 ms to 2 s */
  readonly reconnect?: BackoffOptions;
}

/** Options of {@link redisLocks}: a connection target (as for `RedisBackend`) plus settings. */
export type RedisLocksOptions = RedisTarget & RedisLocksSettings;
