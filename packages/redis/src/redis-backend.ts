import {
  type Backend,
  type BackendCapabilities,
  type BatchDelete,
  type BatchEntry,
  type BatchRead,
  type BatchWrite,
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
  LeasedValue,
  leaseOf,
  passthrough,
  type StoreContext,
  TypedBackend,
  urlEncodeKey,
  urlEncoded,
} from '@cache/core';
import { cbor } from '@cache/formats';
import { createLink, targetCount } from './create-link.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_RESPONSE_TIMEOUT_MS,
  DeadlineError,
  positiveMs,
  withDeadline,
} from './deadline.js';
import { codecTag, hsetArgs, parseEntry, READ_FIELDS } from './entry-layout.js';
import { escapeGlob } from './glob.js';
import type { EntryWrite, RedisLink, Settled } from './link.js';
import { RedisLease } from './locks/redis-locks.js';
import type { RedisArg } from './node-redis.js';
import type { RedisBackendOptions } from './options.js';
import { classify, toCacheError } from './redis-errors.js';

const noop = (): void => undefined;
/** Codes of a store failure, as opposed to a bad entry: a batch with one counts as failed for the breaker. */
const RETRYABLE: ReadonlySet<string> = new Set(['CONNECTION', 'TIMEOUT']);
/** The `diagnostics_channel` channels, looked up once (`undefined` where the runtime has none). */
const channels = diagnostics();

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
    // A value written under a lease of locks fencing this backend: written only while the lease holds (LEASE_LOST).
    const lease = leaseOf(value);
    const fenced = lease instanceof RedisLease && lease.owner.backend === this ? lease : undefined;
    const send = (): Promise<void> =>
      this.#command('write', key, (redisKey) =>
        fenced === undefined
          ? this.#link.write({
              key: redisKey,
              hset: hsetArgs(redisKey, value, this.#codec),
              expireAt: value.expire,
            })
          : fenced.owner.fencedWrite(
              fenced,
              redisKey,
              hsetArgs(redisKey, value, this.#codec),
              value.expire,
              value instanceof LeasedValue && value.releases,
            ),
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
   * Reads every key in one round trip per node: the `HMGET` + `PTTL` of each key sent together (pipelined; on a
   * cluster, routed by slot, `MOVED` followed, never a multi-key command, so never `CROSSSLOT`), under one
   * deadline and one breaker call. One position per key: the entry, `undefined`, or the `CacheError` that
   * `read` would have rejected with (a key that holds something else is `CORRUPT_ENTRY`, a reply of the wrong
   * shape `PROTOCOL`, in its position only). A failure of the store (no connection, the deadline) is that error
   * in every position. A key given twice is read twice.
   */
  readMany(keys: readonly CacheKey[]): Promise<BatchRead<Uint8Array>[]> {
    return this.#traced(
      'read',
      undefined,
      () => this.#readMany(keys),
      (results) => {
        let bytes = 0;
        for (const result of results)
          if (result !== undefined && !CacheError.is(result)) bytes += result.data.byteLength;
        return bytes;
      },
    );
  }

  #readMany(keys: readonly CacheKey[]): Promise<BatchRead<Uint8Array>[]> {
    const results = new Array<BatchRead<Uint8Array>>(keys.length);
    const { redisKeys, at } = this.#encodeAll(keys, 'read', results);
    if (redisKeys.length === 0) return Promise.resolve(results);
    return this.#batch('read', () => this.#link.readMany(redisKeys, READ_FIELDS)).then(
      (settled) => {
        const now = this.now();
        settled.forEach((outcome, j) => {
          const i = at[j] as number;
          const key = keys[i] as CacheKey;
          try {
            if (!outcome.ok) throw outcome.error;
            results[i] = parseEntry(outcome.value[0], outcome.value[1], now, this.#codec);
          } catch (error) {
            results[i] = toCacheError(error, 'read', this.label, key.canonical);
          }
        });
        return results;
      },
      (error: unknown) => this.#failAll(error, 'read', keys, at, results),
    );
  }

  /**
   * Writes every entry in one round trip per node: each entry is the same transaction as {@link write} (`MULTI`,
   * `DEL`, `HSET`, `PEXPIREAT`, `EXEC` on its own key, so atomic per entry and never cross-slot), all sent
   * together, under one deadline and one breaker call. An already expired value deletes its entry. One position
   * per entry: `undefined` or its error. Entries of one key are applied in order, so the last one wins.
   */
  writeMany(entries: readonly BatchEntry<Uint8Array>[]): Promise<BatchWrite[]> {
    let bytes = 0;
    for (const entry of entries) bytes += entry.value.data.byteLength;
    return this.#traced('write', undefined, () => this.#writeMany(entries), bytes);
  }

  #writeMany(entries: readonly BatchEntry<Uint8Array>[]): Promise<BatchWrite[]> {
    const results = new Array<BatchWrite>(entries.length).fill(undefined);
    const keys = entries.map((entry) => entry.key);
    const { redisKeys, at } = this.#encodeAll(keys, 'write', results);
    if (redisKeys.length === 0) return Promise.resolve(results);
    const now = this.now();
    const writes: EntryWrite[] = [];
    const removes: RedisArg[] = [];
    // Where each command's outcome goes: writes first, then removes, as sent.
    const order: number[] = [];
    const removeOrder: number[] = [];
    redisKeys.forEach((redisKey, j) => {
      const value = (entries[at[j] as number] as BatchEntry<Uint8Array>).value;
      if (value.isExpired(now)) {
        removes.push(redisKey);
        removeOrder.push(at[j] as number);
      } else {
        writes.push({ key: redisKey, hset: hsetArgs(redisKey, value, this.#codec), expireAt: value.expire });
        order.push(at[j] as number);
      }
    });
    order.push(...removeOrder);
    const send = (): Promise<Settled<unknown>[]> =>
      Promise.all([
        writes.length === 0 ? [] : this.#link.writeMany(writes),
        removes.length === 0 ? [] : this.#link.removeMany(removes),
      ]).then(([written, removed]) => [...written, ...removed]);
    return this.#batch('write', send).then(
      (settled) => {
        settled.forEach((outcome, j) => {
          const i = order[j] as number;
          results[i] = outcome.ok
            ? undefined
            : toCacheError(outcome.error, 'write', this.label, (keys[i] as CacheKey).canonical);
        });
        return results;
      },
      (error: unknown) => this.#failAll(error, 'write', keys, order, results),
    );
  }

  /** Deletes every key (`DEL` each, all sent together) in one round trip per node; one status per key. */
  removeMany(keys: readonly CacheKey[]): Promise<BatchDelete[]> {
    return this.#traced('remove', undefined, () => this.#removeMany(keys));
  }

  #removeMany(keys: readonly CacheKey[]): Promise<BatchDelete[]> {
    const results = new Array<BatchDelete>(keys.length);
    const { redisKeys, at } = this.#encodeAll(keys, 'remove', results);
    if (redisKeys.length === 0) return Promise.resolve(results);
    return this.#batch('remove', () => this.#link.removeMany(redisKeys)).then(
      (settled) => {
        settled.forEach((outcome, j) => {
          const i = at[j] as number;
          results[i] = outcome.ok
            ? DeleteStatus.deleted(outcome.value)
            : toCacheError(outcome.error, 'remove', this.label, (keys[i] as CacheKey).canonical);
        });
        return results;
      },
      (error: unknown) => this.#failAll(error, 'remove', keys, at, results),
    );
  }

  /** The Redis key of each key; a key that cannot be encoded gets its error in `results` and is not sent. */
  #encodeAll<R>(
    keys: readonly CacheKey[],
    operation: CacheOperation,
    results: (R | CacheError)[],
  ): { redisKeys: RedisArg[]; at: number[] } {
    const redisKeys: RedisArg[] = [];
    const at: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as CacheKey;
      try {
        redisKeys.push(this.#redisKey(key));
        at.push(i);
      } catch (error) {
        results[i] = toCacheError(error, operation, this.label, key?.canonical);
      }
    }
    return { redisKeys, at };
  }

  /** The error of a batch that failed as a whole, in every position that was sent. */
  #failAll<R>(
    error: unknown,
    operation: CacheOperation,
    keys: readonly CacheKey[],
    at: readonly number[],
    results: (R | CacheError)[],
  ): (R | CacheError)[] {
    for (const i of at)
      results[i] = toCacheError(error, operation, this.label, (keys[i] as CacheKey).canonical);
    return results;
  }

  /**
   * Sends a batch under one deadline and one breaker call. The breaker counts the batch as failed when the store
   * failed for any of its keys (a connection or a deadline, not a bad entry); the outcomes are returned all the
   * same. Rejects when the batch failed as a whole.
   */
  #batch<T>(operation: CacheOperation, send: () => Promise<Settled<T>[]>): Promise<Settled<T>[]> {
    let answered: Settled<T>[] | undefined;
    const work = (): Promise<Settled<T>[]> => {
      let sent: Promise<Settled<T>[]>;
      try {
        sent = send();
      } catch (error) {
        return Promise.reject(toCacheError(error, operation, this.label, undefined));
      }
      return this.#run(operation, undefined, sent).then((settled) => {
        for (const outcome of settled) {
          if (!outcome.ok && RETRYABLE.has(classify(outcome.error))) {
            answered = settled;
            throw toCacheError(outcome.error, operation, this.label, undefined);
          }
        }
        return settled;
      });
    };
    return this.#guarded(operation, undefined, work).catch((error: unknown) => {
      if (answered !== undefined) return answered;
      throw error;
    });
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
