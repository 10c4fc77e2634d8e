import { createClient, createCluster } from '@redis/client';
import type { RedisAddress } from './address.js';
import { type ResolvedBackoff, reconnectStrategy } from './backoff.js';
import { ReconnectingCluster } from './reconnect.js';
import type { NodeRedisClient, NodeRedisCluster } from './node-redis.js';
import type { RedisTlsOptions } from './options.js';

/** Connection settings shared by every client the backend opens. */
export interface ConnectionSettings {
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: false | RedisTlsOptions;
  readonly connectTimeoutMs: number;
  readonly backoff: ResolvedBackoff;
}

function socketOptions(settings: ConnectionSettings, address?: { host: string; port: number }) {
  const base = {
    ...address,
    connectTimeout: settings.connectTimeoutMs,
    reconnectStrategy: reconnectStrategy(settings.backoff),
  };
  if (settings.tls === false) return base;
  const { ca, ...rest } = settings.tls;
  return {
    ...base,
    ...rest,
    ...(ca === undefined ? {} : { ca: ca as string | Buffer | Array<string | Buffer> }),
    tls: true as const,
  };
}

function credentials(settings: ConnectionSettings) {
  return {
    ...(settings.username === undefined ? {} : { username: settings.username }),
    ...(settings.password === undefined ? {} : { password: settings.password }),
  };
}

/**
 * Shared client options: commands are refused while disconnected (the backend fails fast with `CONNECTION`
 * rather than queueing them for an unknown time), and node-redis' per-command timer is off (0) because the backend
 * enforces its own deadline, which also covers commands already sent.
 */
const COMMON = { disableOfflineQueue: true, commandOptions: { timeout: 0 } } as const;

/** A single-node client, not connected yet. */
export function createSingleClient(
  address: RedisAddress,
  settings: ConnectionSettings,
  database: number | undefined,
): NodeRedisClient {
  return createClient({
    ...COMMON,
    ...credentials(settings),
    ...(database === undefined ? {} : { database }),
    socket: socketOptions(settings, { host: address.host, port: address.port }),
  }) as unknown as NodeRedisClient;
}

/**
 * A cluster client, not connected yet: root nodes for discovery, shared settings for every node connection. Node
 * connections do not retry by themselves; the next attempt is a fresh cluster client, timed by our backoff.
 */
export function createClusterClient(
  nodes: readonly RedisAddress[],
  settings: ConnectionSettings,
  readFromReplicas: boolean,
): NodeRedisCluster {
  const make = () =>
    createCluster({
      rootNodes: nodes.map((node) => ({
        ...credentials(settings),
        socket: socketOptions(settings, { host: node.host, port: node.port }),
      })),
      defaults: {
        ...COMMON,
        ...credentials(settings),
        socket: { ...socketOptions(settings), reconnectStrategy: false as const },
      },
      useReplicas: readFromReplicas,
      commandOptions: { timeout: 0 },
    }) as unknown as NodeRedisCluster;
  return new ReconnectingCluster(make, reconnectStrategy(settings.backoff));
}
