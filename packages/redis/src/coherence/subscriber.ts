import { CacheError } from '@cache/core';
import type { RedisAddress } from '../address.js';
import { createSingleClient } from '../client-factory.js';
import { DeadlineError, withDeadline } from '../deadline.js';
import type { NodeRedisClient } from '../node-redis.js';
import type { BusSettings } from './bus-target.js';
import type { Channels } from './messages.js';

type Listener = (message: string, channel: string) => void;

/** The pub/sub part of a node-redis client, declared by shape like the rest of this package. */
interface SubscriberClient extends NodeRedisClient {
  subscribe(channels: string[], listener: Listener): Promise<void>;
  sSubscribe(channels: string[], listener: Listener): Promise<void>;
}

/** Where and how to open a session. */
export interface SessionRequest {
  readonly settings: BusSettings;
  readonly channels: Channels;
  /** Connection name (`CLIENT SETNAME`), so operators can find it in `CLIENT LIST`. */
  readonly name: string;
  /** On a cluster, the node to try first. */
  readonly hint: RedisAddress | undefined;
  /** Deadline of connecting and subscribing on one node. */
  readonly timeoutMs: number;
  readonly events: SessionEvents;
  /** Aborts the opening (the owner is closing). */
  readonly signal: AbortSignal;
}

/** What a session tells its owner. Neither is called after `close()`. */
export interface SessionEvents {
  /** A message on one of the session's channels. */
  message(channel: string, message: string): void;
  /** The connection is gone or no longer subscribed: messages may have been missed from here on. */
  lost(error: CacheError): void;
}

const MOVED = /^MOVED \d+ (.+):(\d+)$/;

function lostError(reason: string, cause?: unknown): CacheError {
  return new CacheError('CONNECTION', `coherence subscriber: ${reason}`, {
    operation: 'connect',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * One subscriber connection, subscribed to the invalidation channel and this instance's heartbeat channel. It is
 * never reconnected: when anything goes wrong it reports `lost` once and is dropped, and the owner opens a new
 * session, which knows that messages may have been missed in between. On a cluster it subscribes with
 * `SSUBSCRIBE` on the master of the channels' slot (never a replica), found by following `MOVED` from any node.
 */
export class SubscriberSession {
  /** The node the session is subscribed on. */
  readonly address: RedisAddress;
  readonly #client: SubscriberClient;
  #events: SessionEvents | undefined;

  private constructor(client: SubscriberClient, address: RedisAddress, events: SessionEvents) {
    this.#client = client;
    this.address = address;
    this.#events = events;
  }

  /**
   * Connects and subscribes within `timeoutMs` per node tried; on a cluster, `hint` is tried first (the master
   * found last time). Rejects with the last failure when no node would take the subscription, or at once when
   * `signal` aborts (the connection being opened is dropped).
   */
  static async open(request: SessionRequest): Promise<SubscriberSession> {
    const target = request.settings.target;
    if (target.mode === 'single') return SubscriberSession.#openOn(target.address, request, false);
    const queue: RedisAddress[] =
      request.hint === undefined ? [...target.nodes] : [request.hint, ...target.nodes];
    let lastError: unknown = lostError('no cluster node to subscribe on');
    for (let tries = 0; tries < target.nodes.length + 4 && queue.length > 0; tries++) {
      if (request.signal.aborted) break;
      const address = queue.shift() as RedisAddress;
      try {
        return await SubscriberSession.#openOn(address, request, true);
      } catch (error) {
        lastError = error;
        const moved = error instanceof Error ? MOVED.exec(error.message) : null;
        if (moved !== null) {
          // The slot lives elsewhere: go there next, with the same credentials and TLS settings.
          queue.unshift({ ...address, host: moved[1] as string, port: Number(moved[2]) });
        }
      }
    }
    throw lastError;
  }

  static async #openOn(
    address: RedisAddress,
    request: SessionRequest,
    sharded: boolean,
  ): Promise<SubscriberSession> {
    const { settings, channels, name, timeoutMs, events, signal } = request;
    if (signal.aborted) throw lostError('closed');
    const client = createSingleClient(address, settings.subscriber, undefined) as unknown as SubscriberClient;
    const session = new SubscriberSession(client, address, events);
    let established = false;
    const fail = (error: CacheError): void => {
      // Failures while opening reject `open` instead.
      if (!established) return;
      // Not from inside node-redis' event: destroying a client while its decoder is delivering a push makes
      // node-redis 6.3.1 decode the same push again, forever. The next microtask is after the decoder.
      queueMicrotask(() => {
        const owner = session.#events;
        if (owner === undefined) return;
        session.close();
        owner.lost(error);
      });
    };
    client.on('error', (error: unknown) => fail(lostError('connection failed', error)));
    client.on('end', () => fail(lostError('connection closed')));
    // An unsolicited SUNSUBSCRIBE: the slot moved (failover, resharding); this node no longer relays the channel.
    client.on('sharded-channel-moved', () => fail(lostError('the channel moved to another node')));
    const listener: Listener = (message, channel) => session.#events?.message(channel, message);
    const setUp = async (): Promise<void> => {
      await client.connect();
      await client.sendCommand(['CLIENT', 'SETNAME', name]);
      // Redis lets a replica take SSUBSCRIBE too, but a replica relays messages late and can lose the last ones
      // in a failover. A keyed read in the channels' slot answers MOVED anywhere but on the master.
      if (sharded) await client.sendCommand(['EXISTS', channels.invalidations]);
      const list = [channels.invalidations, channels.heartbeat];
      await (sharded ? client.sSubscribe(list, listener) : client.subscribe(list, listener));
    };
    const abort = (): void => session.close();
    signal.addEventListener('abort', abort);
    try {
      await withDeadline(setUp(), timeoutMs, () => new DeadlineError(timeoutMs, 'connection'));
    } catch (error) {
      session.close();
      throw signal.aborted ? lostError('closed') : error;
    } finally {
      signal.removeEventListener('abort', abort);
    }
    if (!client.isReady) {
      // Lost between the subscription and now.
      session.close();
      throw lostError('connection closed while subscribing');
    }
    established = true;
    return session;
  }

  /** Drops the connection. No event is reported afterwards. */
  close(): void {
    this.#events = undefined;
    try {
      this.#client.destroy();
    } catch {
      // Already closed.
    }
  }
}
