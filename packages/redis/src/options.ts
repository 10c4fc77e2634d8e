import type { BreakerOptions, Compressor, Format, KeyFormat } from '@cache/core';
import type { BackoffOptions } from './backoff.js';
import type { NodeRedisClient, NodeRedisCluster } from './node-redis.js';

/** TLS settings for `rediss://` or `tls: {...}`: the subset of Node's `tls.connect` options a Redis link needs. */
export interface RedisTlsOptions {
  /** Certificate authorities to trust instead of Node's default list (PEM). */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Client certificate, for servers that require one (`tls-auth-clients yes`). */
  readonly cert?: string | Buffer;
  /** Private key of the client certificate. */
  readonly key?: string | Buffer;
  /** Server name for SNI and certificate checks. @default the host */
  readonly servername?: string;
  /** Reject servers whose certificate does not verify. Leave on outside tests. @default true */
  readonly rejectUnauthorized?: boolean;
}

/** A Redis Cluster to connect to. */
export interface RedisClusterTarget {
  /** Some nodes of the cluster, as `host:port` or `redis[s]://host:port`; the others are discovered. */
  readonly nodes: ReadonlyArray<string>;
  /** Send reads to replicas as well as masters (more read capacity; a read may miss a write made just before). @default false */
  readonly readFromReplicas?: boolean;
}

/** Where the backend connects: exactly one of `url`, `cluster`, `client`, `clusterClient`. */
export type RedisTarget =
  | {
      /** Single node: `redis[s]://[[username][:password]@]host[:port][/database]`. */
      readonly url: string;
      readonly cluster?: never;
      readonly client?: never;
      readonly clusterClient?: never;
    }
  | {
      /** A Redis Cluster. */
      readonly cluster: RedisClusterTarget;
      readonly url?: never;
      readonly client?: never;
      readonly clusterClient?: never;
    }
  | {
      /**
       * Your own node-redis client. The backend connects it if it is not open yet, but never closes it, and
       * removes the listeners it added when closed. Its reconnect strategy is yours: node-redis' default never
       * reconnects after a socket timeout, `reconnectStrategy()` of this package does.
       */
      readonly client: NodeRedisClient;
      readonly url?: never;
      readonly cluster?: never;
      readonly clusterClient?: never;
    }
  | {
      /** Your own node-redis cluster client; owned by you, as for `client`. */
      readonly clusterClient: NodeRedisCluster;
      readonly url?: never;
      readonly cluster?: never;
      readonly client?: never;
    };

/** Everything but the connection target. Every option has a default. */
export interface RedisBackendSettings {
  /** Name in reports, errors and composed labels. @default "redis" */
  readonly label?: string;
  /**
   * Prepended to every Redis key, e.g. `"myapp:"`, so an application's keys can be scanned, cleared and granted by
   * ACL patterns (`~myapp:*`). hitbox has no such setting: leave it empty to share entries with hitbox.
   * @default ""
   */
  readonly namespace?: string;
  /** How cache keys become Redis keys. @default urlEncoded (readable; `bitcode` for hitbox's binary keys) */
  readonly keyFormat?: KeyFormat;
  /** How values become bytes. @default cbor from @cache/formats */
  readonly valueFormat?: Format;
  /** Applied to the serialized bytes. @default passthrough (none) */
  readonly compressor?: Compressor;
  /** ACL username (Redis 6+); overrides one in the URL. @default none ("default" user) */
  readonly username?: string;
  /** Password (ACL or `requirepass`); overrides one in the URL. Never shown in errors, labels or logs. @default none */
  readonly password?: string;
  /** Database number (single node only); overrides one in the URL. @default 0 */
  readonly database?: number;
  /** TLS: `true` for Node's defaults, or certificate options. `rediss://` URLs turn it on. @default false */
  readonly tls?: boolean | RedisTlsOptions;
  /** Time allowed to open a TCP (and TLS) connection, per attempt, in milliseconds. @default 5000 */
  readonly connectTimeoutMs?: number;
  /**
   * Deadline of every operation, in milliseconds, including any wait for a connection. Past it the operation
   * fails with `TIMEOUT`; a write that timed out may still have been applied.
   * @default 2000
   */
  readonly responseTimeoutMs?: number;
  /**
   * The circuit breaker every read, write, remove and clear goes through (see `CircuitBreaker` in @cache/core):
   * after `failureThreshold` consecutive `TIMEOUT`/`CONNECTION` failures it opens, and every operation fails at
   * once with `CIRCUIT_OPEN` instead of waiting out `responseTimeoutMs`, until a probe after `openMs` succeeds.
   * More than `maxInFlight` operations at once fail at once with `OVERLOADED`. `false` turns both off.
   * @default on: failureThreshold 5, openMs 5000 (doubling after each failed probe up to maxOpenMs 60000),
   * halfOpenProbes 1, maxInFlight 1000, the backend's `label` and `now`
   */
  readonly breaker?: BreakerOptions | false;
  /** Reconnection policy of the connections the backend opens. @default retries Infinity, base 2, 50 ms to 2 s */
  readonly reconnect?: BackoffOptions;
  /** Largest payload `get` decompresses, in bytes. @default 67108864 (64 MiB) */
  readonly maxDecompressedBytes?: number;
  /** Clock in Unix milliseconds, for tests. @default Date.now */
  readonly now?: () => number;
}

/** Options of {@link RedisBackend}: a connection target plus settings. */
export type RedisBackendOptions = RedisTarget & RedisBackendSettings;
