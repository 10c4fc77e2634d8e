import {
  type Backend,
  type BackendCapabilities,
  CacheError,
  CacheKey,
  CircuitBreaker,
  type CacheOperation,
  type CacheValue,
  type Compressor,
  DeleteStatus,
  diagnostics,
  type Format,
  type KeyFormat,
  passthrough,
  type StoreContext,
  TypedBackend,
  urlEncodeKey,
  urlEncoded,
} from '@cache/core';
import { cbor } from '@cache/formats';
import { createLink, targetCount } from './create-link.js';
import { DeadlineError, withDeadline } from './deadline.js';
import { codecTag, hsetArgs, parseEntry, READ_FIELDS } from './entry-layout.js';
import { escapeGlob } from './glob.js';
import type { RedisLink } from './link.js';
import type { RedisArg } from './node-redis.js';
import type { RedisBackendOptions } from './options.js';
import { toCacheError } from './redis-errors.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_RESPONSE_TIMEOUT_MS = 2000;
const noop = (): void => undefined;
/** The `diagnostics_channel` channels, looked up once (`undefined` where the runtime has none). */
const channels = diagnostics();

function positiveMs(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new CacheError('INVALID_OPTIONS', `${name} must be a positive number of milliseconds`);
  }
  return value;
}

/**
 * Redis (single node or Cluster) as a cache backend, on node-redis. Each entry is one hash at
 * `namespace + keyFormat(key)` with the payload in `d`, the stale instant in `s` and the expiry as the key's own TTL,
 * the layout hitbox reads and writes, so a TypeScript and a Rust service can share entries.
 *
 * It is both levels of the contract: the typed `get`/`set`/`delete` users call (serialize, then compress), and the
 * raw `read`/`write`/`remove` on bytes. Every operation has a deadline and goes through a circuit breaker (option
 * `breaker`), so a dead or frozen Redis costs one deadline per operation only until the breaker opens; failures
 * are `CacheError`s with stable codes.
 *
 * @example
 * ```ts
 * const redis = new RedisBackend({ url: 'redis://127.0.0.1:6379', namespace: 'myapp:' });
 * await redis.set(CacheKey.of('user', '42'), CacheValue.fromTtl({ name: 'Ada' }, { ttlMs: 60_000 }));
 * const hit = await redis.get<{ name: string }>(CacheKey.of('user', '42'));
 * await redis.close();
 * ```
 */
export class RedisBackend extends TypedBackend implements Backend {
  /** Name in reports, errors and composed labels. */
  readonly label: string;
  /** The format the typed level serializes data with. */
  readonly valueFormat: Format;
  /** How keys become Redis keys (after the namespace). */
  readonly keyFormat: KeyFormat;
  /** The compressor applied after serialization. */
  readonly compressor: Compressor;
  /** The prefix of every Redis key this backend uses. */
  readonly namespace: string;
  /** What this backend promises, for the conformance suite and compositions. */
  readonly capabilities: BackendCapabilities;
  /**
   * The circuit breaker its operations go through, for its state, counters and state changes
   * (`circuit.subscribe(...)`); `undefined` with `breaker: false`.
   */
  readonly circuit: CircuitBreaker | undefined;

  readonly #link: RedisLink;
  readonly #namespace: Buffer;
  readonly #codec: string;
  readonly #timeoutMs: number;

  constructor(options: RedisBackendOptions) {
    super({
      ...(options.maxDecompressedBytes === undefined
        ? {}
        : { maxDecompressedBytes: options.maxDecompressedBytes }),
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    if (targetCount(options) !== 1) {
      throw new CacheError('INVALID_OPTIONS', 'give exactly one of url, cluster, client or clusterClient');
    }
    this.label = options.label ?? 'redis';
    this.valueFormat = options.valueFormat ?? cbor;
    this.keyFormat = options.keyFormat ?? urlEncoded;
    this.compressor = options.compressor ?? passthrough;
    this.namespace = options.namespace ?? '';
    this.#namespace = Buffer.from(this.namespace, 'utf8');
    this.#codec = codecTag(this.valueFormat.id, this.compressor.id);
    this.#timeoutMs = positiveMs(options.responseTimeoutMs, DEFAULT_RESPONSE_TIMEOUT_MS, 'responseTimeoutMs');
    this.capabilities = Object.freeze({ expiryPrecisionMs: 1, losslessKeys: this.keyFormat.lossless });
    const connectTimeoutMs = positiveMs(
      options.connectTimeoutMs,
      DEFAULT_CONNECT_TIMEOUT_MS,
      'connectTimeoutMs',
    );
    this.circuit =
      options.breaker === false
        ? undefined
        : new CircuitBreaker({
            label: this.label,
            ...(options.now === undefined ? {} : { now: options.now }),
            ...options.breaker,
          });
    this.#link = createLink(options, connectTimeoutMs);
  }

  protected get raw(): Backend {
    return this;
  }

  /** The Redis key an entry lives at: the namespace bytes, then the key format's bytes. */
  storeKey(key: CacheKey): Buffer {
    let encoded: Uint8Array;
    try {
      encoded = this.keyFormat.encode(key);
    } catch (error) {
      throw CacheError.wrap(error, 'INVALID_KEY', `${this.label}: key cannot be encoded`, {
        backend: this.label,
      });
    }
    if (this.#namespace.length === 0) {
      return Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    }
    const bytes = Buffer.allocUnsafe(this.#namespace.length + encoded.byteLength);
    this.#namespace.copy(bytes, 0);
    bytes.set(encoded, this.#namespace.length);
    return bytes;
  }

  /**
   * {@link storeKey} as text for `redis-cli`: double-quoted, every byte outside printable ASCII and every `"`, `'`
   * and `\` written `\xHH`. Type it in an interactive `redis-cli`, or pass it in single quotes with
   * `--quoted-input`: `redis-cli --quoted-input HGETALL '<text>'`. (`storeKey(key).toString()` is not the same:
   * a terminal would send other bytes for a non-ASCII key.)
   */
  storeKeyText(key: CacheKey): string {
    let text = '"';
    for (const byte of this.storeKey(key)) {
      const plain = byte >= 0x20 && byte <= 0x7e && byte !== 0x22 && byte !== 0x27 && byte !== 0x5c;
      text += plain ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
    }
    return `${text}"`;
  }

  /**
   * The key as sent to Redis: the same bytes as {@link storeKey}, as a string when they are all ASCII (a string
   * argument reaches the socket in one piece, a Buffer as a separate chunk), else as the Buffer.
   */
  #redisKey(key: CacheKey): RedisArg {
    const bytes = this.storeKey(key);
    for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) > 0x7f) return bytes;
    return bytes.toString('latin1');
  }

  /** Runs one operation under the deadline and turns any failure into a CacheError. */
  #run<T>(operation: CacheOperation, key: CacheKey | undefined, work: Promise<T>): Promise<T> {
    const ms = this.#timeoutMs;
    const link = this.#link;
    return withDeadline(work, ms, () => {
      const connected = link.connected;
      if (connected) link.missedDeadline();
      return new DeadlineError(ms, connected ? 'command' : 'connection');
    }).catch((error: unknown) => {
      throw toCacheError(error, operation, this.label, key?.canonical);
    });
  }

  /** Runs `work` through the circuit breaker, which may refuse it at once (`CIRCUIT_OPEN`, `OVERLOADED`). */
  #guarded<T>(operation: CacheOperation, key: CacheKey | undefined, work: () => Promise<T>): Promise<T> {
    const circuit = this.circuit;
    if (circuit === undefined) return work();
    return circuit.run(work, key === undefined ? { operation } : { operation, key: key.canonical });
  }

  /**
   * Encodes `key` for Redis and runs `send` with it under the deadline, through the breaker; a key that cannot be
   * encoded rejects.
   */
  #command<T>(
    operation: CacheOperation,
    key: CacheKey,
    send: (redisKey: RedisArg) => Promise<T>,
  ): Promise<T> {
    return this.#guarded(operation, key, () => {
      let work: Promise<T>;
      try {
        work = send(this.#redisKey(key));
      } catch (error) {
        return Promise.reject(toCacheError(error, operation, this.label, key.canonical));
      }
      return this.#run(operation, key, work);
    });
  }

  /**
   * Runs `work` under a `cache:store` trace when someone listens (see `@cache/core`'s `diagnostics`), else as is.
   * `bytes` is the payload size, or gives it from the result when it is only known then.
   */
  #traced<T>(
    operation: StoreContext['operation'],
    key: CacheKey | undefined,
    work: () => Promise<T>,
    bytes?: number | ((result: T) => number | undefined),
  ): Promise<T> {
    const store = channels?.store;
    if (!store?.hasSubscribers) return work();
    const context: StoreContext = { backend: this.label, system: 'redis', operation, key: key?.canonical };
    if (typeof bytes === 'number') context.bytes = bytes;
    if (typeof bytes !== 'function') return store.tracePromise(work, context);
    return store.tracePromise(
      () =>
        work().then((result) => {
          const size = bytes(result);
          if (size !== undefined) context.bytes = size;
          return result;
        }),
      context,
    );
  }

  /** Reads the entry at `key` in one round trip (`HMGET d s e c` + `PTTL`), or `undefined` on a miss. */
  read(key: CacheKey): Promise<CacheValue<Uint8Array> | undefined> {
    return this.#traced(
      'read',
      key,
      () => this.#read(key),
      (value) => value?.data.byteLength,
    );
  }

  #read(key: CacheKey): Promise<CacheValue<Uint8Array> | undefined> {
    return this.#command('read', key, (redisKey) => this.#link.read(redisKey, READ_FIELDS)).then(
      ([fields, pttl]) => {
        try {
          return parseEntry(fields, pttl, this.now(), this.#codec);
        } catch (error) {
          throw toCacheError(error, 'read', this.label, key.canonical);
        }
      },
    );
  }

  /**
   * Replaces the entry at `key` atomically in one round trip: `MULTI`, `DEL`, `HSET`, `PEXPIREAT` at the
   * absolute expire instant (none when the value never expires), `EXEC`. No field of an older write survives.
   * A value that has already expired deletes the entry instead.
   */
  write(key: CacheKey, value: CacheValue<Uint8Array>): Promise<void> {
    if (value.isExpired(this.now())) return this.remove(key).then(noop);
    const send = (): Promise<void> =>
      this.#command('write', key, (redisKey) =>
        this.#link.write({
          key: redisKey,
          hset: hsetArgs(redisKey, value, this.#codec),
          expireAt: value.expire,
        }),
      ).then(noop);
    return this.#traced('write', key, send, value.data.byteLength);
  }

  /** Deletes the entry at `key` (`DEL`). */
  remove(key: CacheKey): Promise<DeleteStatus> {
    return this.#traced('remove', key, () =>
      this.#command('remove', key, (redisKey) => this.#link.remove(redisKey)).then((count) =>
        DeleteStatus.deleted(count),
      ),
    );
  }

  /**
   * Deletes every key that starts with `namespace + prefix`, with `SCAN` + `UNLINK` (never `KEYS`), on every master
   * of a cluster; returns how many keys it removed. Each page is bounded by the response timeout, not the whole
   * clear. Refuses an empty pattern, which would empty the whole database.
   */
  clear(prefix = ''): Promise<number> {
    return this.#traced('clear', undefined, () => this.#clear(prefix));
  }

  async #clear(prefix: string): Promise<number> {
    const start = this.namespace + prefix;
    if (start === '') {
      throw new CacheError('INVALID_OPTIONS', `${this.label}: clear() needs a namespace or a prefix`, {
        backend: this.label,
        operation: 'clear',
      });
    }
    const pattern = Buffer.concat([escapeGlob(Buffer.from(start, 'utf8')), Buffer.from('*')]);
    const deadline = <T>(work: Promise<T>): Promise<T> => this.#run('clear', undefined, work);
    try {
      return await this.#guarded('clear', undefined, () => this.#link.removeMatching(pattern, deadline));
    } catch (error) {
      throw toCacheError(error, 'clear', this.label, undefined);
    }
  }

  /**
   * Deletes every entry whose `CacheKey` prefix starts with `prefix` (`@cache/cache`'s `clear()` of a
   * namespace), with `SCAN` + `UNLINK` like {@link clear}. Needs the url-encoded key format, where a key's prefix
   * is the start of its encoding (`_prefix=app%3A...`): other formats fail with `INVALID_OPTIONS`. `""` (every
   * entry) needs a backend namespace, so that it never empties a shared database.
   */
  async clearPrefix(prefix: string): Promise<void> {
    if (this.keyFormat.id !== urlEncoded.id) {
      throw new CacheError(
        'INVALID_OPTIONS',
        `${this.label}: clearPrefix needs the url-encoded key format (keys are "${this.keyFormat.id}")`,
        { backend: this.label, operation: 'clear' },
      );
    }
    if (prefix === '' && this.namespace === '') {
      throw new CacheError('INVALID_OPTIONS', `${this.label}: clearing every entry needs a namespace`, {
        backend: this.label,
        operation: 'clear',
      });
    }
    const encoded = urlEncodeKey(new CacheKey(prefix, 0, []));
    await this.clear(encoded.slice(0, encoded.indexOf('&')));
  }

  /**
   * Closes the connections the backend opened (waiting up to the response timeout for commands in flight).
   * A client or cluster you passed in is left open; the listeners the backend added to it are removed.
   */
  close(): Promise<void> {
    return this.#link.close(this.#timeoutMs);
  }
}
