import { CacheError } from '@cache/core';
import { parseAddress, type RedisAddress } from './address.js';
import { reconnectStrategy, resolveBackoff } from './backoff.js';
import { type ConnectionSettings, createClusterClient, createSingleClient } from './client-factory.js';
import { ClusterLink } from './cluster-link.js';
import type { RedisLink } from './link.js';
import type { RedisBackendOptions } from './options.js';
import { SingleLink } from './single-link.js';

/** How many connection targets the options name (exactly one is valid). */
export function targetCount(options: RedisBackendOptions): number {
  return [options.url, options.cluster, options.client, options.clusterClient].filter((t) => t !== undefined)
    .length;
}

function connectionSettings(
  options: RedisBackendOptions,
  fromUrl: RedisAddress | undefined,
  connectTimeoutMs: number,
): ConnectionSettings {
  const tls = options.tls ?? false;
  return {
    username: options.username ?? fromUrl?.username,
    password: options.password ?? fromUrl?.password,
    tls: tls === true || (tls === false && fromUrl?.tls === true) ? {} : tls,
    connectTimeoutMs,
    backoff: resolveBackoff(options.reconnect),
  };
}

/** The link for the configured target: a client the backend opens and owns, or the user's. */
export function createLink(options: RedisBackendOptions, connectTimeoutMs: number): RedisLink {
  if (options.client !== undefined) return new SingleLink({ given: options.client }, connectTimeoutMs);
  if (options.clusterClient !== undefined) return new ClusterLink({ given: options.clusterClient });
  if (options.url !== undefined) {
    const address = parseAddress(options.url);
    const settings = connectionSettings(options, address, connectTimeoutMs);
    const database = options.database ?? address.database;
    // node-redis' own retries are off: the link times them, on a timer it clears when closed.
    const once = { ...settings, backoff: resolveBackoff({ retries: 0 }) };
    return new SingleLink(
      {
        create: () => createSingleClient(address, once, database),
        retry: reconnectStrategy(settings.backoff),
      },
      connectTimeoutMs,
    );
  }
  const nodes = (options.cluster?.nodes ?? []).map(parseAddress);
  const first = nodes[0];
  if (first === undefined)
    throw new CacheError('INVALID_OPTIONS', 'cluster.nodes must list at least one node');
  if (options.database !== undefined)
    throw new CacheError('INVALID_OPTIONS', 'a Redis Cluster has only database 0');
  const settings = connectionSettings(options, first, connectTimeoutMs);
  const readFromReplicas = options.cluster?.readFromReplicas ?? false;
  return new ClusterLink({ create: () => createClusterClient(nodes, settings, readFromReplicas) });
}
