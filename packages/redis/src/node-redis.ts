/** A command argument as node-redis takes it: text or bytes. */
export type RedisArg = string | Buffer;

/**
 * The part of a node-redis client (`createClient()` of `@redis/client` or `redis`) the backend uses. Declared by
 * shape rather than imported, so a client from another copy or minor version of node-redis is accepted.
 */
export interface NodeRedisClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: node-redis' own option type, kept open so any version fits.
  sendCommand(args: ReadonlyArray<RedisArg>, options?: any): Promise<unknown>;
  multi(): NodeRedisMulti;
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter listener signature.
  on(event: string, listener: (...args: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter listener signature.
  off(event: string, listener: (...args: any[]) => void): unknown;
  close(): Promise<unknown>;
  destroy(): void;
}

/** A transaction being built on a single-node client. */
export interface NodeRedisMulti {
  addCommand(args: RedisArg[]): unknown;
  exec(): Promise<unknown>;
}

/** A transaction being built on a cluster client; all its commands go to the node of `firstKey`. */
export interface NodeRedisClusterMulti {
  addCommand(firstKey: RedisArg | undefined, isReadonly: boolean | undefined, args: RedisArg[]): unknown;
  exec(): Promise<unknown>;
}

/** The part of a node-redis cluster client (`createCluster()`) the backend uses. */
export interface NodeRedisCluster {
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  sendCommand(
    firstKey: RedisArg | undefined,
    isReadonly: boolean | undefined,
    args: RedisArg[],
    // biome-ignore lint/suspicious/noExplicitAny: node-redis' own option type, kept open so any version fits.
    options?: any,
  ): Promise<unknown>;
  multi(routing?: RedisArg): NodeRedisClusterMulti;
  readonly masters: ReadonlyArray<unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: the node type is node-redis' own.
  nodeClient(node: any): Promise<NodeRedisClient>;
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter listener signature.
  on(event: string, listener: (...args: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter listener signature.
  off(event: string, listener: (...args: any[]) => void): unknown;
  close(): Promise<unknown>;
  destroy(): void;
}
