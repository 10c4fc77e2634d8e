// Layers for the composition tests: a typed Map backend with an injected clock (synchronous like memory, or
// asynchronous like Redis), and a byte-storing raw backend with its own format and key format.
import {
  type Backend,
  type CacheBackend,
  type CacheKey,
  CacheValue,
  type ClearableBackend,
  type CompositionErrorEvent,
  DeleteStatus,
  type Format,
  type ReadInfo,
  passthrough,
  toCacheBackend,
  urlEncoded,
} from '../src/index.js';

/** A clock the test moves by hand. */
export class Clock {
  constructor(public ms = 1_700_000_000_000) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/**
 * A typed backend over a Map. Synchronous by default (it answers like the memory backend: plain values);
 * with `async: true` every answer is a promise, like a network store.
 */
export class MapBackend implements ClearableBackend {
  readonly entries = new Map<string, CacheValue<unknown>>();
  constructor(
    readonly label: string,
    readonly clock: Clock,
    readonly options: { async?: boolean } = {},
  ) {}

  #answer<R>(value: R): R | Promise<R> {
    return this.options.async === true ? Promise.resolve(value) : value;
  }

  get<T>(key: CacheKey, info?: ReadInfo): CacheValue<T> | undefined | Promise<CacheValue<T> | undefined> {
    const value = this.entries.get(key.canonical);
    if (value === undefined || value.isExpired(this.clock.ms)) {
      this.entries.delete(key.canonical);
      return this.#answer(undefined);
    }
    if (info !== undefined) info.source = this.label;
    return this.#answer(value as CacheValue<T>);
  }

  set<T>(key: CacheKey, value: CacheValue<T>): void | Promise<void> {
    if (value.isExpired(this.clock.ms)) this.entries.delete(key.canonical);
    else this.entries.set(key.canonical, value);
    return this.#answer(undefined);
  }

  delete(key: CacheKey): DeleteStatus | Promise<DeleteStatus> {
    return this.#answer(this.entries.delete(key.canonical) ? DeleteStatus.deleted(1) : DeleteStatus.missing);
  }

  clear(): void {
    this.entries.clear();
  }

  /** What the store holds for `key`, expired or not, bypassing the typed contract. */
  peek(key: CacheKey): CacheValue<unknown> | undefined {
    return this.entries.get(key.canonical);
  }

  /** Puts `value` in the store directly. */
  put(key: CacheKey, value: CacheValue<unknown>): void {
    this.entries.set(key.canonical, value);
  }
}

const json: Format = {
  id: 'json-test',
  serialize: (value) => new TextEncoder().encode(JSON.stringify(value)),
  deserialize: (bytes) => JSON.parse(new TextDecoder().decode(bytes)),
};

/** A raw, byte-storing backend (JSON values, url-encoded keys), always asynchronous. */
export class RawMapBackend implements Backend {
  readonly valueFormat = json;
  readonly keyFormat = urlEncoded;
  readonly compressor = passthrough;
  readonly store = new Map<string, CacheValue<Uint8Array>>();
  constructor(readonly label: string) {}
  #storeKey(key: CacheKey): string {
    return new TextDecoder().decode(this.keyFormat.encode(key));
  }
  async read(key: CacheKey): Promise<CacheValue<Uint8Array> | undefined> {
    return this.store.get(this.#storeKey(key));
  }
  async write(key: CacheKey, value: CacheValue<Uint8Array>): Promise<void> {
    this.store.set(this.#storeKey(key), value);
  }
  async remove(key: CacheKey): Promise<DeleteStatus> {
    return this.store.delete(this.#storeKey(key)) ? DeleteStatus.deleted(1) : DeleteStatus.missing;
  }
}

/** A typed backend over {@link RawMapBackend}: bytes and metadata in the store, values decoded on read. */
export function bytesBackend(label: string, clock: Clock): { backend: CacheBackend; raw: RawMapBackend } {
  const raw = new RawMapBackend(label);
  return { backend: toCacheBackend(raw, { now: clock.now }), raw };
}

/** Collects what a composition reports through `onError`. */
export function errorLog(): {
  events: CompositionErrorEvent[];
  onError: (event: CompositionErrorEvent) => void;
} {
  const events: CompositionErrorEvent[] = [];
  return { events, onError: (event) => events.push(event) };
}

/** Settles after every pending microtask and one macrotask: lets background work run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A value with a stale and an expire instant relative to the clock: fresh 30 s, stale 30 s more. */
export function value<T>(data: T, clock: Clock, ttlMs = 30_000, graceMs = 30_000): CacheValue<T> {
  return CacheValue.fromTtl(data, { ttlMs, graceMs }, clock.ms);
}

/** True when `promise` has not settled after the pending microtasks and a macrotask have run. */
export async function isPending(promise: unknown): Promise<boolean> {
  const waiting = Symbol('waiting');
  const first = await Promise.race([
    Promise.resolve(promise).then(
      () => 'settled',
      () => 'settled',
    ),
    tick().then(() => waiting),
  ]);
  return first === waiting;
}
