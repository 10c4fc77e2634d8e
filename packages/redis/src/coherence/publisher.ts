import { CacheError } from '@cache/core';
import { createClusterClient, createSingleClient } from '../client-factory.js';
import { DeadlineError, withDeadline } from '../deadline.js';
import { integer } from '../link.js';
import { reconnectStrategy, resolveBackoff } from '../backoff.js';
import { Reconnector } from '../reconnect.js';
import type { NodeRedisClient, NodeRedisCluster } from '../node-redis.js';
import type { BusSettings } from './bus-target.js';

const ignore = (): void => {};

/** One single-node client and what we know about its connection. */
class SingleState {
  lastError: unknown;
  ready: Promise<void>;
  constructor(readonly client: NodeRedisClient) {
    client.on('error', (error: unknown) => {
      this.lastError = error;
    });
    client.on('ready', () => {
      this.lastError = undefined;
    });
    this.ready = new Promise<void>((resolve, reject) => {
      client.on('ready', () => resolve());
      client.connect().catch((error: unknown) => {
        this.lastError ??= error;
        reject(error);
      });
    });
    this.ready.catch(ignore);
  }
}

/**
 * Publishes on the coherence channels: `PUBLISH` through one single-node client, or `SPUBLISH` through a cluster
 * client that routes by the channel's slot and follows `MOVED`. Every publish has a deadline and fails fast (with
 * the connection's last error) while the connection is down, rather than queueing.
 */
export class Publisher {
  readonly #settings: BusSettings;
  readonly #timeoutMs: number;
  readonly #reconnector: Reconnector;
  #single: SingleState | undefined;
  #cluster:
    | { client: NodeRedisCluster; ready: Promise<NodeRedisCluster>; failed: boolean; connected: boolean }
    | undefined;
  #closed = false;

  constructor(settings: BusSettings, timeoutMs: number) {
    this.#settings = settings;
    this.#timeoutMs = timeoutMs;
    this.#reconnector = new Reconnector(reconnectStrategy(settings.publisher.backoff));
  }

  /** Publishes `message` on `channel`; resolves with the number of subscribers that received it. */
  publish(channel: string, message: string): Promise<number> {
    if (this.#closed) return Promise.reject(new CacheError('CLOSED', 'the coherence layer is closed'));
    const ms = this.#timeoutMs;
    const work =
      this.#settings.target.mode === 'single'
        ? this.#publishSingle(channel, message)
        : this.#publishCluster(channel, message);
    return withDeadline(work, ms, () => new DeadlineError(ms, 'command'));
  }

  /** Opens the connection now, so the first publish does not pay for it. */
  warmUp(): void {
    if (this.#settings.target.mode === 'single') this.#singleState();
    else this.#clusterClient().catch(ignore);
  }

  #singleState(): SingleState {
    const target = this.#settings.target;
    if (target.mode !== 'single') throw new Error('not a single-node target');
    let state = this.#single;
    // Between two background attempts, the stopped client answers with its last error.
    if (state !== undefined && !state.client.isOpen && this.#reconnector.pending) return state;
    if (state === undefined || !state.client.isOpen) {
      // First use, or the last client stopped: start afresh. node-redis' retries are off (its timer cannot be
      // cancelled by close()); the reconnector times the next attempt instead.
      state?.client.destroy();
      const settings = { ...this.#settings.publisher, backoff: resolveBackoff({ retries: 0 }) };
      const fresh = new SingleState(createSingleClient(target.address, settings, undefined));
      fresh.client.on('ready', () => this.#reconnector.connected());
      fresh.client.on('terminated', (error: unknown) =>
        this.#reconnector.lost(error, () => {
          if (this.#single === fresh && !this.#closed) this.#singleState();
        }),
      );
      state = fresh;
      this.#single = state;
    }
    return state;
  }

  async #publishSingle(channel: string, message: string): Promise<number> {
    const state = this.#singleState();
    if (!state.client.isReady) {
      if (state.lastError !== undefined) throw state.lastError;
      await state.ready;
    }
    return integer(await state.client.sendCommand(['PUBLISH', channel, message]), 'PUBLISH');
  }

  #clusterClient(): Promise<NodeRedisCluster> {
    const target = this.#settings.target;
    if (target.mode !== 'cluster') return Promise.reject(new Error('not a cluster target'));
    let current = this.#cluster;
    if (current === undefined || current.failed) {
      current?.client.destroy();
      const client = createClusterClient(target.nodes, this.#settings.publisher, false);
      client.on('error', ignore);
      const entry = { client, ready: Promise.resolve(client), failed: false, connected: false };
      entry.ready = client.connect().then(
        () => {
          entry.connected = true;
          return client;
        },
        (error: unknown) => {
          entry.failed = true;
          throw error;
        },
      );
      entry.ready.catch(ignore);
      this.#cluster = entry;
      current = entry;
    }
    return current.ready;
  }

  async #publishCluster(channel: string, message: string): Promise<number> {
    const cluster = await this.#clusterClient();
    return integer(await cluster.sendCommand(channel, false, ['SPUBLISH', channel, message]), 'SPUBLISH');
  }

  /** Closes the connection; publishes still in flight fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#reconnector.close();
    const client = this.#single?.client ?? this.#cluster?.client;
    // A connection that never came up has nothing to flush: drop it rather than wait for it.
    const up = this.#single?.client.isReady ?? this.#cluster?.connected ?? false;
    this.#single = undefined;
    this.#cluster = undefined;
    if (client === undefined) return;
    if (!client.isOpen || !up) {
      client.destroy();
      return;
    }
    const ms = this.#timeoutMs;
    await withDeadline(client.close(), ms, () => new DeadlineError(ms, 'command')).catch(() =>
      client.destroy(),
    );
  }
}
