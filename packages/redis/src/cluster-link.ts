import { CacheError } from '@cache/core';
import {
  BYTES,
  closeOwned,
  type EntryWrite,
  execReply,
  gatherReads,
  integer,
  type RedisLink,
  SCAN_COUNT,
  type Settled,
  scanPage,
  settle,
} from './link.js';
import type { NodeRedisCluster, RedisArg } from './node-redis.js';

/** Where a cluster link gets its cluster client: made by the backend (owned) or given by the user. */
export type ClusterSource =
  | { readonly create: () => NodeRedisCluster }
  | { readonly given: NodeRedisCluster };

/** One cluster client and its connection attempt. */
class ClusterState {
  ready = false;
  failed: unknown;
  readonly connecting: Promise<NodeRedisCluster>;
  readonly onError = (): void => {
    // Topology refresh failures land here; commands report their own errors. The listener only keeps an
    // 'error' event from crashing the process.
  };
  constructor(readonly cluster: NodeRedisCluster) {
    cluster.on('error', this.onError);
    const opened = cluster.isOpen ? Promise.resolve() : cluster.connect();
    this.connecting = opened.then(
      () => {
        this.ready = true;
        return cluster;
      },
      (error: unknown) => {
        this.failed = error;
        throw error;
      },
    );
    // Rejections reach whoever waits on `connecting`; keep an abandoned one from being unhandled.
    this.connecting.catch(() => undefined);
  }
  detach(): void {
    this.cluster.off('error', this.onError);
  }
}

/**
 * A Redis Cluster through one node-redis cluster client, which routes each command to the master of its key's
 * slot (or a replica for reads, when asked), follows `MOVED`/`ASK`, and refreshes the topology after a failover.
 * Reads are two commands sent in the same tick (node-redis writes them together; a cluster `multi()` would lose
 * the byte type mapping in node-redis 6.3.1). Writes are a `MULTI` on the key's node.
 */
export class ClusterLink implements RedisLink {
  readonly #source: ClusterSource;
  #state: ClusterState | undefined;
  #closed = false;

  constructor(source: ClusterSource) {
    this.#source = source;
  }

  get connected(): boolean {
    return this.#state?.ready === true && this.#state.cluster.isOpen;
  }

  #cluster(): NodeRedisCluster | Promise<NodeRedisCluster> {
    const state = this.#state;
    if (state?.ready && state.cluster.isOpen) return state.cluster;
    if (this.#closed) return Promise.reject(new CacheError('CLOSED', 'the Redis backend is closed'));
    if (state === undefined || state.failed !== undefined) {
      // First use, or the last attempt to reach the cluster failed: try again (with a fresh client when owned).
      if (state !== undefined && 'create' in this.#source) state.cluster.destroy();
      else state?.detach();
      this.#state = new ClusterState('create' in this.#source ? this.#source.create() : this.#source.given);
      return this.#state.connecting;
    }
    if (state.ready && !state.cluster.isOpen) {
      return Promise.reject(
        new CacheError('CONNECTION', 'the node-redis cluster client passed in is closed'),
      );
    }
    return state.connecting;
  }

  read(key: RedisArg, fields: readonly string[]): Promise<[unknown, unknown]> {
    const cluster = this.#cluster();
    if (cluster instanceof Promise) return cluster.then((c) => this.#read(c, key, fields));
    return this.#read(cluster, key, fields);
  }

  #read(cluster: NodeRedisCluster, key: RedisArg, fields: readonly string[]): Promise<[unknown, unknown]> {
    // Marked read-only: served by a replica only when the cluster client was made with replica reads on.
    return Promise.all([
      cluster.sendCommand(key, true, ['HMGET', key, ...fields], BYTES),
      cluster.sendCommand(key, true, ['PTTL', key]),
    ]);
  }

  write(entry: EntryWrite): Promise<void> {
    const cluster = this.#cluster();
    if (cluster instanceof Promise) return cluster.then((c) => this.#write(c, entry));
    return this.#write(cluster, entry);
  }

  #write(cluster: NodeRedisCluster, entry: EntryWrite): Promise<void> {
    const { key } = entry;
    const multi = cluster.multi(key);
    multi.addCommand(key, false, ['DEL', key]);
    multi.addCommand(key, false, entry.hset);
    if (entry.expireAt !== undefined)
      multi.addCommand(key, false, ['PEXPIREAT', key, String(entry.expireAt)]);
    return multi.exec().then((reply) => execReply(reply, entry));
  }

  async remove(key: RedisArg): Promise<number> {
    const cluster = await this.#cluster();
    return integer(await cluster.sendCommand(key, false, ['DEL', key]), 'DEL');
  }

  /**
   * Each key's commands go through the cluster client, which routes them to the node of the key's slot and
   * follows `MOVED`/`ASK`; sent in the same tick, they leave in one write per node. Every command names one key,
   * so no batch can fail with `CROSSSLOT`.
   */
  async readMany(
    keys: readonly RedisArg[],
    fields: readonly string[],
  ): Promise<Settled<[unknown, unknown]>[]> {
    const cluster = await this.#cluster();
    return gatherReads(
      keys.length,
      (i) => {
        const key = keys[i] as RedisArg;
        return cluster.sendCommand(key, true, ['HMGET', key, ...fields], BYTES);
      },
      (i) => {
        const key = keys[i] as RedisArg;
        return cluster.sendCommand(key, true, ['PTTL', key]);
      },
    );
  }

  async writeMany(entries: readonly EntryWrite[]): Promise<Settled<void>[]> {
    const cluster = await this.#cluster();
    return Promise.all(entries.map((entry) => settle(this.#write(cluster, entry))));
  }

  async removeMany(keys: readonly RedisArg[]): Promise<Settled<number>[]> {
    const cluster = await this.#cluster();
    return Promise.all(
      keys.map((key) =>
        settle(cluster.sendCommand(key, false, ['DEL', key]).then((reply) => integer(reply, 'DEL'))),
      ),
    );
  }

  async removeMatching(pattern: Buffer, deadline: <T>(work: Promise<T>) => Promise<T>): Promise<number> {
    const cluster = await deadline(Promise.resolve(this.#cluster()));
    let removed = 0;
    for (const master of [...cluster.masters]) {
      const node = await deadline(cluster.nodeClient(master));
      let cursor = '0';
      do {
        const page = scanPage(
          await deadline(node.sendCommand(['SCAN', cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT], BYTES)),
        );
        cursor = page[0];
        // Keys of one node can sit in different slots, and a multi-key UNLINK must not cross slots: one UNLINK per
        // key, routed by the cluster client (so a slot that moved meanwhile is followed), all in one round trip.
        const counts = await deadline(
          Promise.all(page[1].map((key) => cluster.sendCommand(key, false, ['UNLINK', key]))),
        );
        for (const count of counts) removed += integer(count, 'UNLINK');
      } while (cursor !== '0');
    }
    return removed;
  }

  missedDeadline(): void {
    // A hung node connection is left to node-redis and TCP keep-alive; a lost one makes an owned cluster client
    // replace itself (see ReconnectingCluster, created by createClusterClient).
  }

  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const state = this.#state;
    this.#state = undefined;
    if (state === undefined) return;
    if (!('create' in this.#source)) {
      state.detach();
      return;
    }
    await closeOwned(state.cluster, state.cluster.isOpen, timeoutMs);
  }
}
