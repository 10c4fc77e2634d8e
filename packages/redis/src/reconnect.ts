import type { NodeRedisClient, NodeRedisCluster, NodeRedisClusterMulti, RedisArg } from './node-redis.js';

/** How long to wait before reconnection attempt `retries` after `cause`, or false to stop (see `reconnectStrategy`). */
export type RetryDelay = (retries: number, cause: Error) => number | false;

/**
 * Owns the wait between reconnection attempts of a client the package opened. node-redis waits with a timer its
 * API cannot cancel, which kept a closed backend's process alive until it fired (up to `maxDelayMs`); so our
 * clients are made with node-redis' own retries off, and the next attempt (a fresh client) is scheduled here, on a
 * timer that {@link close} clears.
 */
export class Reconnector {
  readonly #delay: RetryDelay;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #retries = 0;
  #closed = false;

  constructor(delay: RetryDelay) {
    this.#delay = delay;
  }

  /** True while an attempt is scheduled: operations fail fast with the last error meanwhile. */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** A connection came up: the backoff starts again from its first delay. */
  connected(): void {
    this.#retries = 0;
  }

  /** A client stopped for good (node-redis does at once, as told): runs `reopen` after the backoff delay. */
  lost(cause: unknown, reopen: () => void): void {
    if (this.#closed || this.#timer !== undefined) return;
    const ms = this.#delay(this.#retries++, cause instanceof Error ? cause : new Error(String(cause)));
    if (ms === false) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed) reopen();
    }, ms);
  }

  /** No attempt is made from now on, and none keeps the event loop alive. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: EventEmitter listener signature.
type Listener = (...args: any[]) => void;

/** One node-redis cluster client; `lost` is the first node connection it lost before it was in use. */
interface Generation {
  readonly cluster: NodeRedisCluster;
  inUse: boolean;
  lost: unknown;
}

/**
 * A cluster client whose node connections never retry by themselves (node-redis would wait on a timer that
 * close() cannot cancel). When one is lost, the next attempt is a fresh node-redis cluster client (discovery and
 * connections anew, so a failover is found too), made on a {@link Reconnector} timer and put in use once up;
 * meanwhile the previous one serves the nodes that still answer and fails fast on the lost one.
 */
export class ReconnectingCluster implements NodeRedisCluster {
  readonly #make: () => NodeRedisCluster;
  readonly #reconnector: Reconnector;
  readonly #listeners: Array<[string, Listener]> = [];
  #current: Generation;
  #next: Generation | undefined;
  readonly #retiring = new Set<NodeRedisCluster>();
  #closed = false;

  constructor(make: () => NodeRedisCluster, delay: RetryDelay) {
    this.#make = make;
    this.#reconnector = new Reconnector(delay);
    this.#current = this.#generation();
  }

  #generation(): Generation {
    const cluster = this.#make();
    const generation: Generation = { cluster, inUse: false, lost: undefined };
    for (const [event, listener] of this.#listeners) cluster.on(event, listener);
    cluster.on('node-error', (error: unknown) => {
      if (!generation.inUse) generation.lost ??= error;
      else if (generation === this.#current) this.#nodeLost(error);
    });
    return generation;
  }

  #nodeLost(error: unknown): void {
    if (this.#next === undefined) this.#reconnector.lost(error, () => this.#replace());
  }

  #replace(): void {
    if (this.#closed) return;
    const next = this.#generation();
    this.#next = next;
    next.cluster.connect().then(
      () => {
        // Abandoned while it connected (closed, or replaced): node-redis may have opened node connections after
        // a destroy() issued mid-discovery, so destroy it again now that it is up.
        if (this.#next !== next) {
          next.cluster.destroy();
          return;
        }
        this.#next = undefined;
        const previous = this.#current.cluster;
        this.#use(next);
        // Commands in flight on the previous client still get their replies.
        this.#retiring.add(previous);
        previous
          .close()
          .catch(() => undefined)
          .finally(() => {
            previous.destroy();
            this.#retiring.delete(previous);
          });
      },
      (error: unknown) => {
        next.cluster.destroy();
        if (this.#next !== next) return;
        this.#next = undefined;
        this.#nodeLost(error);
      },
    );
  }

  #use(generation: Generation): void {
    this.#current = generation;
    generation.inUse = true;
    if (generation.lost === undefined) this.#reconnector.connected();
    else this.#nodeLost(generation.lost);
  }

  get isOpen(): boolean {
    return !this.#closed && this.#current.cluster.isOpen;
  }

  get masters(): ReadonlyArray<unknown> {
    return this.#current.cluster.masters;
  }

  async connect(): Promise<unknown> {
    const first = this.#current;
    await first.cluster.connect();
    // Closed while it connected: connections opened after the close would otherwise outlive it.
    if (this.#closed) first.cluster.destroy();
    else if (this.#current === first) this.#use(first);
    return this;
  }

  sendCommand(
    firstKey: RedisArg | undefined,
    isReadonly: boolean | undefined,
    args: RedisArg[],
    // biome-ignore lint/suspicious/noExplicitAny: node-redis' own option type.
    options?: any,
  ): Promise<unknown> {
    return this.#current.cluster.sendCommand(firstKey, isReadonly, args, options);
  }

  multi(routing?: RedisArg): NodeRedisClusterMulti {
    return this.#current.cluster.multi(routing);
  }

  // biome-ignore lint/suspicious/noExplicitAny: the node type is node-redis' own.
  nodeClient(node: any): Promise<NodeRedisClient> {
    return this.#current.cluster.nodeClient(node);
  }

  on(event: string, listener: Listener): this {
    this.#listeners.push([event, listener]);
    for (const cluster of this.#clusters()) cluster.on(event, listener);
    return this;
  }

  off(event: string, listener: Listener): this {
    const at = this.#listeners.findIndex(([e, l]) => e === event && l === listener);
    if (at >= 0) this.#listeners.splice(at, 1);
    for (const cluster of this.#clusters()) cluster.off(event, listener);
    return this;
  }

  *#clusters(): Iterable<NodeRedisCluster> {
    yield this.#current.cluster;
    if (this.#next !== undefined) yield this.#next.cluster;
    yield* this.#retiring;
  }

  close(): Promise<unknown> {
    this.#stop();
    return this.#current.cluster.close();
  }

  destroy(): void {
    this.#stop();
    this.#current.cluster.destroy();
  }

  /** No attempt is made from now on: the pending one is dropped, and so are clients still retiring. */
  #stop(): void {
    this.#closed = true;
    this.#reconnector.close();
    this.#next?.cluster.destroy();
    this.#next = undefined;
    for (const cluster of this.#retiring) cluster.destroy();
    this.#retiring.clear();
  }
}
