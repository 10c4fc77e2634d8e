import { CacheError } from '@cache/core';
import { parseAddress, type RedisAddress } from '../address.js';
import { resolveBackoff } from '../backoff.js';
import type { ConnectionSettings } from '../client-factory.js';
import type { CoherenceRedisTarget } from './options.js';

/** The Redis the coherence layer talks to, parsed: one node, or a cluster's seed nodes. */
export type BusTarget =
  | { readonly mode: 'single'; readonly address: RedisAddress }
  | { readonly mode: 'cluster'; readonly nodes: readonly RedisAddress[] };

/** Connection settings and target; `publisher` settings reconnect in the background, the subscriber's never do. */
export interface BusSettings {
  readonly target: BusTarget;
  readonly publisher: ConnectionSettings;
  readonly subscriber: ConnectionSettings;
}

/** Parses the `redis` option. Never echoes a URL: it may hold a password. */
export function busSettings(redis: CoherenceRedisTarget, connectTimeoutMs: number): BusSettings {
  let target: BusTarget;
  let first: RedisAddress;
  if (redis.url !== undefined) {
    first = parseAddress(redis.url);
    target = { mode: 'single', address: first };
  } else {
    const nodes = (redis.cluster?.nodes ?? []).map(parseAddress);
    const seed = nodes[0];
    if (seed === undefined) {
      throw new CacheError(
        'INVALID_OPTIONS',
        'coherentTiers: redis.cluster.nodes must list at least one node',
      );
    }
    first = seed;
    target = { mode: 'cluster', nodes };
  }
  const tls = redis.tls ?? false;
  const base = {
    username: redis.username ?? first.username,
    password: redis.password ?? first.password,
    tls: tls === true || (tls === false && first.tls) ? {} : tls,
    connectTimeoutMs,
  };
  return {
    target,
    publisher: { ...base, backoff: resolveBackoff() },
    // A subscriber connection is never reconnected by node-redis: a new one is a new session, opened by us,
    // which knows that messages may have been missed in between.
    subscriber: { ...base, backoff: resolveBackoff({ retries: 0 }) },
  };
}
