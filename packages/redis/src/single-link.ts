import { CacheError } from '@cache/core';
import { DeadlineError, withDeadline } from './deadline.js';
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
import type { NodeRedisClient, RedisArg } from './node-redis.js';
import { Reconnector, type RetryDelay } from './reconnect.js';

interface Waiter {
  resolve(client: NodeRedisClient): void;
  reject(error: unknown): void;
}

/** One client and what we know about it: the failure of its current connection attempt, and who waits for it. */
class ClientState {
  lastError: unknown;
  waiters: Waiter[] = [];
  readonly onReady = (): void => {
    this.lastError = undefined;
    this.settle(undefined);
  };
  readonly onError = (error: unknown): void => {
    this.lastError = error;
    this.settle(error);
  };
  /** Told when node-redis stopped the client for good (ours always stop at the first failure). */
  onTerminated: ((error: unknown) => void) | undefined;
  readonly onTerminatedEvent = (error: unknown): void => {
    this.onError(error);
    this.onTerminated?.(error);
  };
  readonly onEnd = (): void => {
    this.lastError ??= new CacheError('CONNECTION', 'the Redis client was closed');
    this.settle(this.lastError);
  };
  constructor(readonly client: NodeRedisClient) {
    client.on('ready', this.onReady);
    client.on('error', this.onError);
    client.on('end', this.onEnd);
    client.on('terminated', this.onTerminatedEvent);
  }
  detach(): void {
    this.client.off('ready', this.onReady);
    this.client.off('error', this.onError);
    this.client.off('end', this.onEnd);
    this.client.off('terminated', this.onTerminatedEvent);
  }
  settle(error: unknown): void {
    const waiters = this.waiters;
    if (waiters.length === 0) return;
    this.waiters = [];
    for (const waiter of waiters) {
      if (error === undefined) waiter.resolve(this.client);
      else waiter.reject(error);
    }
  }
}

/**
 * Where a single-node link gets its client: made by the backend (owned, with node-redis' retries off, and `retry`
 * timing the next attempt) or given by the user.
 */
export type ClientSource =
  | { readonly create: () => NodeRedisClient; readonly retry: RetryDelay }
  | { readonly given: NodeRedisClient };

/**
 * A single Redis node through one node-redis client (commands are auto-pipelined, so one connection serves any
 * concurrency). The client is opened on first use; concurrent first calls wait for the same connection. While a
 * connection attempt is failing, operations fail at once with the reason instead of waiting for their deadline.
 * An owned client whose connection hangs (an operation missed its deadline and a PING then does too) is replaced.
 */
export class SingleLink implements RedisLink {
  readonly #source: ClientSource;
  readonly #probeTimeoutMs: number;
  readonly #reconnector: Reconnector | undefined;
  #state: ClientState | undefined;
  #probing = false;
  #closed = false;

  constructor(source: ClientSource, probeTimeoutMs: number) {
    this.#source = source;
    this.#probeTimeoutMs = probeTimeoutMs;
    this.#reconnector = 'create' in source ? new Reconnector(source.retry) : undefined;
  }

  get connected(): boolean {
    return this.#state?.client.isReady === true;
  }

  #client(): NodeRedisClient | Promise<NodeRedisClient> {
    const state = this.#state;
    if (state?.client.isReady) return state.client;
    return this.#acquire();
  }

  #acquire(): Promise<NodeRedisClient> {
    if (this.#closed) return Promise.reject(new CacheError('CLOSED', 'the Redis backend is closed'));
    let state = this.#state;
    if (state === undefined) {
      state = this.#attach(undefined);
    } else if (!state.client.isOpen) {
      if (!('create' in this.#source)) {
        return Promise.reject(new CacheError('CONNECTION', 'the node-redis client passed in is closed'));
      }
      // Between two background attempts, fail fast with the reason rather than open yet another connection.
      if (this.#reconnector?.pending && state.lastError !== undefined) return Promise.reject(state.lastError);
      state = this.#attach(state);
    }
    if (state.client.isReady) return Promise.resolve(state.client);
    if (state.lastError !== undefined) return Promise.reject(state.lastError);
    const waiting = state;
    return new Promise((resolve, reject) => waiting.waiters.push({ resolve, reject }));
  }

  /** Starts using a client: a fresh one when owned (dropping a dead predecessor), else the user's. */
  #attach(previous: ClientState | undefined): ClientState {
    // A dropped owned client keeps its listeners: it may still emit, and an 'error' without one would crash.
    previous?.client.destroy();
    const client = 'create' in this.#source ? this.#source.create() : this.#source.given;
    const state = new ClientState(client);
    this.#state = state;
    const reconnector = this.#reconnector;
    if (reconnector !== undefined) {
      client.on('ready', () => reconnector.connected());
      state.onTerminated = (error) => {
        // Reconnect in the background, as node-redis would, but on a timer close() can clear.
        reconnector.lost(error, () => {
          if (this.#state === state && !this.#closed) this.#attach(state);
        });
      };
    }
    if (!client.isOpen) {
      client.connect().catch((error: unknown) => {
        state.lastError ??= error;
        state.settle(error);
      });
    }
    return state;
  }

  read(key: RedisArg, fields: readonly string[]): Promise<[unknown, unknown]> {
    const client = this.#client();
    if (client instanceof Promise) return client.then((c) => this.#read(c, key, fields));
    return this.#read(client, key, fields);
  }

  #read(client: NodeRedisClient, key: RedisArg, fields: readonly string[]): Promise<[unknown, unknown]> {
    return Promise.all([
      client.sendCommand(['HMGET', key, ...fields], BYTES),
      client.sendCommand(['PTTL', key]),
    ]);
  }

  write(entry: EntryWrite): Promise<void> {
    const client = this.#client();
    if (client instanceof Promise) return client.then((c) => this.#write(c, entry));
    return this.#write(client, entry);
  }

  #write(client: NodeRedisClient, entry: EntryWrite): Promise<void> {
    const multi = client.multi();
    multi.addCommand(['DEL', entry.key]);
    multi.addCommand(entry.hset);
    if (entry.expireAt !== undefined) multi.addCommand(['PEXPIREAT', entry.key, String(entry.expireAt)]);
    return multi.exec().then((reply) => execReply(reply, entry));
  }

  async remove(key: RedisArg): Promise<number> {
    const client = await this.#client();
    return integer(await client.sendCommand(['DEL', key]), 'DEL');
  }

  async readMany(
    keys: readonly RedisArg[],
    fields: readonly string[],
  ): Promise<Settled<[unknown, unknown]>[]> {
    const client = await this.#client();
    const hmget: RedisArg[] = ['HMGET', '', ...fields];
    return gatherReads(
      keys.length,
      (i) => {
        const args = hmget.slice();
        args[1] = keys[i] as RedisArg;
        return client.sendCommand(args, BYTES);
      },
      (i) => client.sendCommand(['PTTL', keys[i] as RedisArg]),
    );
  }

  async writeMany(entries: readonly EntryWrite[]): Promise<Settled<void>[]> {
    const client = await this.#client();
    return Promise.all(entries.map((entry) => settle(this.#write(client, entry))));
  }

  async removeMany(keys: readonly RedisArg[]): Promise<Settled<number>[]> {
    const client = await this.#client();
    return Promise.all(
      keys.map((key) => settle(client.sendCommand(['DEL', key]).then((reply) => integer(reply, 'DEL')))),
    );
  }

  async removeMatching(pattern: Buffer, deadline: <T>(work: Promise<T>) => Promise<T>): Promise<number> {
    const client = await deadline(Promise.resolve(this.#client()));
    let removed = 0;
    let cursor = '0';
    do {
      const page = scanPage(
        await deadline(client.sendCommand(['SCAN', cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT], BYTES)),
      );
      cursor = page[0];
      if (page[1].length > 0) {
        removed += integer(
          await deadline(client.sendCommand(['UNLINK', ...(page[1] as RedisArg[])])),
          'UNLINK',
        );
      }
    } while (cursor !== '0');
    return removed;
  }

  missedDeadline(): void {
    const state = this.#state;
    if (this.#probing || state === undefined || !('create' in this.#source) || !state.client.isReady) return;
    this.#probing = true;
    withDeadline(
      state.client.sendCommand(['PING']),
      this.#probeTimeoutMs,
      () => new DeadlineError(0, 'command'),
    )
      .then(
        () => undefined,
        () => {
          // No answer to a PING either: the connection is dead without the socket knowing (a frozen server, a lost
          // network path). Replace the client; the next operation connects afresh.
          if (this.#state === state && !this.#closed) {
            this.#state = undefined;
            state.lastError = new CacheError('CONNECTION', 'the Redis connection stopped answering');
            state.settle(state.lastError);
            state.client.destroy();
          }
        },
      )
      .finally(() => {
        this.#probing = false;
      });
  }

  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#reconnector?.close();
    const state = this.#state;
    this.#state = undefined;
    if (state === undefined) return;
    state.settle(new CacheError('CLOSED', 'the Redis backend is closed'));
    if (!('create' in this.#source)) {
      state.detach();
      return;
    }
    await closeOwned(state.client, state.client.isReady, timeoutMs);
  }
}
