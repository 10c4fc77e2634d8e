import { createCluster } from '@redis/client';
import type { RedisAddress } from '../address.js';
import { reconnectStrategy } from '../backoff.js';
import { type ConnectionSettings, createClusterClient, createSingleClient } from '../client-factory.js';
import { closeOwned } from '../link.js';
import type { NodeRedisClient, NodeRedisCluster, RedisArg } from '../node-redis.js';

type Listener = (message: string, channel: string) => void;

/** The pub/sub part of node-redis clients, declared by shape like the rest of this package. */
interface PubSubClient {
  subscribe(channels: string[], listener: Listener): Promise<void>;
  sSubscribe(channels: string[], listener: Listener): Promise<void>;
  duplicate?(): NodeRedisClient;
}

const ignore = (): void => undefined;

/** Where the locks connect: one node or a cluster, opened by us or given. */
export type LockTarget =
  | { readonly mode: 'single'; readonly address: RedisAddress; readonly database: number | undefined }
  | { readonly mode: 'cluster'; readonly nodes: readonly RedisAddress[] }
  | { readonly mode: 'client'; readonly client: NodeRedisClient }
  | { readonly mode: 'cluster-client'; readonly cluster: NodeRedisCluster };

/**
 * The connections of the lock store: one for commands, one for release notices. Commands fail fast while there is
 * no connection (no offline queue); the store bounds each with its deadline. The subscriber is opened on the first
 * wait and resubscribes by itself after a reconnect; a notice lost meanwhile costs a poll, never a hang.
 */
export class LockConnection {
  /** True on a cluster: notices go over sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`). */
  readonly sharded: boolean;
  readonly #target: LockTarget;
  readonly #settings: ConnectionSettings;
  #single: NodeRedisClient | undefined;
  #singleReady: Promise<NodeRedisClient> | undefined;
  #cluster: NodeRedisCluster | undefined;
  #clusterReady: Promise<NodeRedisCluster> | undefined;
  #subscriber: { close(): Promise<void> } | undefined;
  #closed = false;

  constructor(target: LockTarget, settings: ConnectionSettings) {
    this.#target = target;
    this.#settings = settings;
    this.sharded = target.mode === 'cluster' || target.mode === 'cluster-client';
  }

  /** True while a command can be sent at once. */
  get connected(): boolean {
    if (this.sharded) return this.#cluster?.isOpen === true;
    return this.#single?.isReady === true;
  }

  /** Sends `args`, routed by `key` on a cluster. */
  send(key: RedisArg, args: RedisArg[]): Promise<unknown> {
    if (this.sharded) {
      const cluster = this.#clusterClient();
      return cluster.then((c) => c.sendCommand(key, false, args));
    }
    const client = this.#singleClient();
    if (client instanceof Promise) return client.then((c) => c.sendCommand(args));
    return client.sendCommand(args);
  }

  #singleClient(): NodeRedisClient | Promise<NodeRedisClient> {
    if (this.#closed) return Promise.reject(new Error('the lock store is closed'));
    let client = this.#single;
    if (client === undefined) {
      const target = this.#target;
      if (target.mode === 'client') {
        client = target.client;
      } else if (target.mode === 'single') {
        client = createSingleClient(target.address, this.#settings, target.database);
        client.on('error', ignore);
        client.connect().catch(ignore);
      } else {
        throw new Error('not a single-node target');
      }
      this.#single = client;
    }
    if (client.isReady) return client;
    this.#singleReady ??= this.#whenReady(client).finally(() => {
      this.#singleReady = undefined;
    });
    return this.#singleReady;
  }

  #whenReady(client: NodeRedisClient): Promise<NodeRedisClient> {
    const waiting = client;
    return new Promise((resolve, reject) => {
      const ready = (): void => {
        waiting.off('error', failed);
        resolve(waiting);
      };
      const failed = (error: unknown): void => {
        waiting.off('ready', ready);
        reject(error);
      };
      waiting.on('ready', ready);
      waiting.on('error', failed);
      if (!waiting.isOpen && this.#target.mode === 'client') waiting.connect().catch(failed);
    });
  }

  #clusterClient(): Promise<NodeRedisCluster> {
    if (this.#closed) return Promise.reject(new Error('the lock store is closed'));
    if (this.#clusterReady === undefined) {
      const target = this.#target;
      const cluster =
        target.mode === 'cluster-client'
          ? target.cluster
          : createClusterClient((target as { nodes: readonly RedisAddress[] }).nodes, this.#settings, false);
      cluster.on('error', ignore);
      this.#cluster = cluster;
      const opened = cluster.isOpen ? Promise.resolve() : cluster.connect();
      const ready = opened.then(() => cluster);
      this.#clusterReady = ready;
      ready.catch(() => {
        // Try afresh on the next command.
        if (this.#clusterReady === ready) this.#clusterReady = undefined;
        if (target.mode !== 'cluster-client') cluster.destroy();
      });
    }
    return this.#clusterReady;
  }

  /** Subscribes `listener` to `channels` (sharded on a cluster) on the notice connection, opening it if needed. */
  async subscribe(channels: string[], listener: Listener): Promise<void> {
    if (this.#closed) throw new Error('the lock store is closed');
    const target = this.#target;
    if (target.mode === 'single' || target.mode === 'client') {
      const client =
        target.mode === 'single'
          ? createSingleClient(target.address, this.#settings, target.database)
          : (target.client as unknown as PubSubClient).duplicate?.();
      if (client === undefined) throw new Error('the client given cannot be duplicated for pub/sub');
      client.on('error', ignore);
      const subscriber = { close: () => closeOwned(client, client.isReady, 1000) };
      this.#subscriber = subscriber;
      try {
        await client.connect();
        await (client as unknown as PubSubClient).subscribe(channels, listener);
      } catch (error) {
        this.#subscriber = undefined;
        client.destroy();
        throw error;
      }
      return;
    }
    // Sharded pub/sub: a node-redis cluster client subscribes each channel on the master of its slot and follows
    // the channel when the slot moves.
    const nodes = target.mode === 'cluster' ? target.nodes : [];
    const settings = this.#settings;
    const auth = {
      ...(settings.username === undefined ? {} : { username: settings.username }),
      ...(settings.password === undefined ? {} : { password: settings.password }),
    };
    const cluster =
      target.mode === 'cluster'
        ? (createCluster({
            rootNodes: nodes.map((node) => ({ ...auth, socket: { host: node.host, port: node.port } })),
            defaults: {
              ...auth,
              socket: {
                connectTimeout: settings.connectTimeoutMs,
                reconnectStrategy: reconnectStrategy(settings.backoff),
                ...(settings.tls === false ? {} : { tls: true as const }),
              },
            },
          }) as unknown as NodeRedisCluster & PubSubClient)
        : (target.cluster as NodeRedisCluster & PubSubClient);
    cluster.on('error', ignore);
    if (target.mode === 'cluster') {
      this.#subscriber = { close: () => closeOwned(cluster, cluster.isOpen, 1000) };
    }
    try {
      if (!cluster.isOpen) await cluster.connect();
      // One SSUBSCRIBE per channel: channels of one command must share a slot.
      await Promise.all(channels.map((channel) => cluster.sSubscribe([channel], listener)));
    } catch (error) {
      if (target.mode === 'cluster') {
        this.#subscriber = undefined;
        cluster.destroy();
      }
      throw error;
    }
  }

  /** Drops the notice connection (a subscription that failed or hung); the next wait opens another. */
  dropSubscriber(): void {
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    subscriber?.close().catch(ignore);
  }

  /** Closes the connections opened here; a client given stays open. */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closing: Promise<void>[] = [];
    if (this.#subscriber !== undefined) closing.push(this.#subscriber.close().catch(ignore));
    const mode = this.#target.mode;
    if (mode === 'single' && this.#single !== undefined) {
      closing.push(closeOwned(this.#single, this.#single.isReady, timeoutMs));
    }
    if (mode === 'cluster' && this.#cluster !== undefined) {
      closing.push(closeOwned(this.#cluster, this.#cluster.isOpen, timeoutMs));
    }
    await Promise.all(closing);
  }
}
