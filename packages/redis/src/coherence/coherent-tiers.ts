import { randomBytes } from 'node:crypto';
import {
  type Awaitable,
  BackendLabel,
  type BatchDelete,
  type BatchEntry,
  type BatchRead,
  type BatchWrite,
  type CacheBackend,
  CacheError,
  type CacheKey,
  checkEntries,
  checkKeys,
  type CacheValue,
  type ClearableBackend,
  Composition,
  compose,
  type DeleteStatus,
  diagnostics,
  getMany,
  isPromiseLike,
  type ReadInfo,
} from '@cache/core';
import { RedisBackend } from '../redis-backend.js';
import { classify } from '../redis-errors.js';
import { busSettings } from './bus-target.js';
import type { CoherenceErrorEvent, CoherenceOperation, CoherenceStats, TrustChange } from './events.js';
import { type Channels, channelsFor, ownPrefix, parseInvalidation } from './messages.js';
import {
  type CoherentTiersOptions,
  type ResolvedCoherenceSettings,
  resolveCoherenceSettings,
} from './options.js';
import { Announcer } from './announcer.js';
import { Publisher } from './publisher.js';
import { TrustMonitor } from './trust-monitor.js';

/** The `diagnostics_channel` channels, looked up once (`undefined` where the runtime has none). */
const channels = diagnostics();

/** The far end of `l2`: itself, or the far layer of the compositions it nests. */
function farthest(backend: CacheBackend, path: BackendLabel): { far: CacheBackend; path: BackendLabel } {
  let far = backend;
  let at = path;
  while (far instanceof Composition) {
    at = BackendLabel.compose(at, far.label);
    far = far.l2 as CacheBackend;
  }
  return { far, path: at };
}

type MutableStats = { -readonly [K in keyof CoherenceStats]: CoherenceStats[K] };

/**
 * A memory tier in front of a shared Redis tier, kept coherent across processes. It is a `CacheBackend`
 * (wrapping a `Composition` of `l1` and `l2`) that publishes an invalidation after each `set` and `delete`, and
 * drops its L1 copy of a key when another process publishes one. L1 is trusted only while a heartbeat through
 * the same channel comes back in time; otherwise reads skip L1 and go to the far tier, and L1 is cleared before
 * it is trusted again. Build it with {@link coherentTiers}; `docs/coherence.md` states the bound and the design.
 */
export class CoherentTiers<
  L1 extends ClearableBackend = ClearableBackend,
  L2 extends CacheBackend = CacheBackend,
> implements CacheBackend
{
  /** Name of the tiers, the first segment of every `ReadInfo.source` path. */
  readonly label: BackendLabel;
  /** The composition of `l1` and `l2` that trusted reads and all writes go through. */
  readonly composition: Composition<L1, L2>;
  /** This process's id in messages; its own messages are recognised by it and ignored. */
  readonly instanceId: string;
  /** The pub/sub channel names: invalidations (shared) and this instance's heartbeat. */
  readonly channels: Channels;
  /** The options in force. */
  readonly settings: ResolvedCoherenceSettings;
  #trusted = false;
  readonly #far: CacheBackend;
  readonly #farPath: BackendLabel;
  readonly #publisher: Publisher;
  readonly #announcer: Announcer;
  readonly #monitor: TrustMonitor;
  readonly #ownPrefix: string;
  readonly #stats: MutableStats = {
    published: 0,
    received: 0,
    ownIgnored: 0,
    bypassedReads: 0,
    clears: 0,
    sessions: 0,
  };
  readonly #waiters = new Set<() => void>();
  #closed = false;

  constructor(options: CoherentTiersOptions<L1, L2>) {
    // Strict writes by default: a value that reached only this process's L1 would be announced to the others,
    // who would drop their copies and read the old one from L2, while this process kept serving the new one.
    const composition = compose(options.l1, options.l2, {
      writePolicy: 'sequential',
      ...options.composition,
    });
    const { far, path } = farthest(options.l2, composition.label);
    const namespace = far instanceof RedisBackend ? far.namespace : undefined;
    this.settings = resolveCoherenceSettings(options, namespace);
    const bus = busSettings(options.redis, this.settings.connectTimeoutMs);
    this.composition = composition;
    this.label = composition.label;
    this.#far = far;
    this.#farPath = path;
    this.instanceId = randomBytes(9).toString('base64url');
    this.channels = channelsFor(this.settings.channel, this.instanceId);
    this.#ownPrefix = ownPrefix(this.instanceId);
    this.#publisher = new Publisher(bus, this.settings.publishTimeoutMs);
    this.#announcer = new Announcer(
      this.#publisher,
      this.channels.invalidations,
      this.instanceId,
      this.label,
      {
        published: () => {
          this.#stats.published++;
        },
        report: (operation, error, key) => this.#report(operation, error, key),
      },
    );
    this.#monitor = new TrustMonitor(
      bus,
      this.settings,
      this.channels,
      `cache-coherence:${this.instanceId}`,
      this.#publisher,
      {
        setTrusted: (trusted, reason) => this.#setTrusted(trusted, reason),
        clearL1: () => this.#clearL1(),
        invalidation: (message) => this.#onInvalidation(message),
        heartbeatReceived: () => this.#publishMessage('heartbeat'),
        report: (operation, error) => this.#report(operation, error),
        heartbeatPublished: () => this.#announcer.recovered(),
        heartbeatFailed: (error) => this.#announcer.reportOutage('heartbeat', error),
      },
    );
    this.#publisher.warmUp();
    this.#monitor.start();
  }

  /** True while L1 may be read: a heartbeat was confirmed less than `maxStalenessMs` ago. */
  get trusted(): boolean {
    return this.#trusted;
  }

  /** Counters since creation. */
  get stats(): CoherenceStats {
    return { ...this.#stats, sessions: this.#monitor.sessions };
  }

  /**
   * Reads `key`: through the composition (L1, then L2) while L1 is trusted, straight from the far tier while it
   * is not. An L1 hit answers synchronously. `info.source` is the label path of the layer that answered.
   */
  get<T>(key: CacheKey, info?: ReadInfo): Awaitable<CacheValue<T> | undefined> {
    if (this.#trusted) return this.composition.get<T>(key, info);
    this.#stats.bypassedReads++;
    return this.#readFar<T>(key, info);
  }

  #readFar<T>(key: CacheKey, info: ReadInfo | undefined): Awaitable<CacheValue<T> | undefined> {
    if (info === undefined) return this.#far.get<T>(key);
    const inner: ReadInfo = {};
    const mark = (value: CacheValue<T> | undefined): CacheValue<T> | undefined => {
      if (value !== undefined)
        info.source = BackendLabel.compose(this.#farPath, inner.source ?? this.#far.label);
      return value;
    };
    const result = this.#far.get<T>(key, inner);
    return isPromiseLike(result) ? Promise.resolve(result).then(mark) : mark(result);
  }

  /**
   * Writes through the composition, then publishes the invalidation, so other processes drop their copy. Rejects
   * when the write failed, or when it succeeded but the invalidation could not be published: then other
   * processes may serve their old copy until it expires, and the caller should know.
   */
  async set<T>(key: CacheKey, value: CacheValue<T>): Promise<void> {
    await this.#announcer.afterWrite(key, 'set', () => this.composition.set(key, value));
  }

  /** Deletes from every layer, then publishes the invalidation. Rejects like `set`. */
  async delete(key: CacheKey): Promise<DeleteStatus> {
    return this.#announcer.afterWrite(key, 'delete', () => this.composition.delete(key));
  }

  /**
   * Reads every key: through the composition while L1 is trusted (L1 first, one batched L2 read for the misses),
   * straight from the far tier in one batch while it is not. One position per key, as `get` would answer it.
   */
  getMany<T>(keys: readonly CacheKey[], infos?: readonly ReadInfo[]): Awaitable<BatchRead<T>[]> {
    checkKeys(keys, this.label, 'get');
    if (this.#trusted) return this.composition.getMany<T>(keys, infos);
    this.#stats.bypassedReads += keys.length;
    if (infos === undefined) return getMany<T>(this.#far, keys);
    const inner: ReadInfo[] = keys.map(() => ({}));
    const mark = (results: BatchRead<T>[]): BatchRead<T>[] => {
      results.forEach((result, i) => {
        if (result !== undefined && !CacheError.is(result)) {
          (infos[i] as ReadInfo).source = BackendLabel.compose(
            this.#farPath,
            inner[i]?.source ?? this.#far.label,
          );
        }
      });
      return results;
    };
    const read = getMany<T>(this.#far, keys, inner);
    return isPromiseLike(read) ? Promise.resolve(read).then(mark) : mark(read);
  }

  /**
   * Writes every entry through the composition (one batch per layer), then publishes the invalidations of all
   * the keys in batched messages (up to 256 keys each). A position holds its write's error, or, when the write
   * succeeded but the invalidations could not be published, that publish error (other processes may keep their
   * old copies until they expire), as `set` would reject.
   */
  async setMany<T>(entries: readonly BatchEntry<T>[]): Promise<BatchWrite[]> {
    checkEntries(entries, this.label);
    return this.#announcer.afterBatch(
      entries.map((entry) => entry.key),
      'set',
      () => this.composition.setMany(entries),
    );
  }

  /** Deletes every key from every layer (one batch per layer), then publishes the invalidations like `setMany`. */
  async deleteMany(keys: readonly CacheKey[]): Promise<BatchDelete[]> {
    checkKeys(keys, this.label, 'delete');
    return this.#announcer.afterBatch(keys, 'delete', () => this.composition.deleteMany(keys));
  }

  /**
   * Removes every entry whose key prefix starts with `prefix` (`""`: every entry of the far `RedisBackend`'s
   * namespace) from Redis and from this process's L1, then tells every other process to drop its L1 copies under
   * that prefix. Resolves once Redis and L1 are cleared and the message is published: from then on, other
   * processes stop serving those copies within `maxStalenessMs`. Rejects when a tier could not be cleared, or
   * when the message could not be published (other processes may keep their copies until they expire).
   */
  async clearPrefix(prefix: string): Promise<void> {
    if (typeof prefix !== 'string') {
      throw new CacheError('INVALID_OPTIONS', `${this.label}: clearPrefix needs a string prefix`, {
        backend: this.label,
        operation: 'clear',
      });
    }
    await this.#announcer.afterClearPrefix(prefix, () => this.composition.clearPrefix(prefix));
  }

  /**
   * Removes every entry: the far `RedisBackend`'s whole namespace (it needs one) and every process's L1. The same
   * as `clearPrefix("")`.
   */
  clear(): Promise<void> {
    return this.clearPrefix('');
  }

  /**
   * Drops every L1 copy, in this process and, through the channel, in every other one; Redis keeps its entries.
   * Resolves once this L1 is cleared and the message published; rejects like {@link clearPrefix}.
   */
  async invalidateAll(): Promise<void> {
    await this.#announcer.afterInvalidateAll(() =>
      (this.composition as Composition<ClearableBackend, CacheBackend>).invalidateAll(),
    );
  }

  /**
   * Resolves once L1 is trusted (the first heartbeat has come back), so a process can start warm. Rejects with
   * `TIMEOUT` after `timeoutMs`, or `CLOSED`.
   */
  whenTrusted(timeoutMs: number = this.settings.maxStalenessMs * 2): Promise<void> {
    if (this.#trusted) return Promise.resolve();
    if (this.#closed) return Promise.reject(new CacheError('CLOSED', `${this.label}: closed`));
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        if (this.#trusted) resolve();
        else reject(new CacheError('CLOSED', `${this.label}: closed`));
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(done);
        reject(new CacheError('TIMEOUT', `${this.label}: L1 not trusted within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(done);
    });
  }

  #setTrusted(trusted: boolean, reason: string): void {
    if (this.#trusted === trusted) return;
    this.#trusted = trusted;
    if (trusted || this.#closed) for (const waiter of [...this.#waiters]) waiter();
    if (channels?.event.hasSubscribers) {
      channels.event.publish({ type: 'coherence-trust', backend: this.label, trusted });
    }
    const hook = this.settings.onTrustChange;
    if (hook === undefined) return;
    const change: TrustChange = { trusted, reason };
    try {
      hook(change);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  /** Publishes a `coherence-message` event on `cache:event` when someone listens. */
  #publishMessage(kind: 'invalidation' | 'heartbeat'): void {
    if (channels?.event.hasSubscribers) {
      channels.event.publish({ type: 'coherence-message', backend: this.label, kind });
    }
  }

  async #clearL1(): Promise<void> {
    await (this.composition as Composition<ClearableBackend, CacheBackend>).invalidateAll();
    this.#stats.clears++;
  }

  #onInvalidation(message: string): void {
    if (message.startsWith(this.#ownPrefix)) {
      this.#stats.ownIgnored++;
      return;
    }
    let parsed: ReturnType<typeof parseInvalidation>;
    try {
      parsed = parseInvalidation(message);
    } catch (error) {
      // Someone meant to invalidate something we cannot name: drop everything rather than keep a stale copy.
      this.#report(
        'message',
        new CacheError(
          'BACKEND',
          `${this.label}: an invalidation message was not understood; L1 was cleared`,
          {
            cause: error,
            backend: this.label,
          },
        ),
      );
      this.#dropAll();
      return;
    }
    this.#stats.received++;
    this.#publishMessage('invalidation');
    if (parsed.kind === 'all') {
      this.#dropAll();
      return;
    }
    if (parsed.kind === 'prefix') {
      this.composition
        .invalidatePrefix(parsed.prefix)
        .catch((error: unknown) => this.#failedDrop('clear', error, undefined));
      return;
    }
    if (parsed.kind === 'keys') {
      for (const key of parsed.keys) this.#invalidate(key);
      return;
    }
    this.#invalidate(parsed.key);
  }

  #invalidate(key: CacheKey): void {
    try {
      const dropped = this.composition.invalidate(key);
      if (isPromiseLike(dropped)) {
        Promise.resolve(dropped).catch((error: unknown) => this.#failedDrop('invalidate', error, key));
      }
    } catch (error) {
      this.#failedDrop('invalidate', error, key);
    }
  }

  #dropAll(): void {
    this.#clearL1().catch((error: unknown) => this.#failedDrop('clear', error, undefined));
  }

  /** L1 may still hold a copy it was told to drop: stop trusting it until it has been cleared. */
  #failedDrop(operation: CoherenceOperation, error: unknown, key: CacheKey | undefined): void {
    this.#report(operation, error, key);
    this.#monitor.distrust('L1 failed to drop a copy');
  }

  #report(operation: CoherenceOperation, error: unknown, key?: CacheKey): void {
    const event: CoherenceErrorEvent = {
      error: CacheError.is(error)
        ? error
        : CacheError.wrap(error, classify(error), `coherence ${operation} failed`, { backend: this.label }),
      channel: this.settings.channel,
      operation,
      ...(key === undefined ? {} : { key }),
    };
    try {
      this.settings.onError(event);
    } catch (hookError) {
      queueMicrotask(() => {
        throw hookError;
      });
    }
  }

  /**
   * Stops the heartbeat, drops the subscriber and publisher connections, then closes both tiers (the
   * composition's `close`).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#announcer.close();
    this.#monitor.close();
    for (const waiter of [...this.#waiters]) waiter();
    await this.#publisher.close();
    await this.composition.close();
  }
}

/**
 * Puts `l1` (memory, per process) in front of `l2` (Redis, shared) and keeps every process's L1 coherent through
 * Redis pub/sub. After a `set` or `delete` by any process has resolved, the others stop serving their old copy
 * within `maxStalenessMs` (default 3 s; about one round trip while Redis is reachable).
 *
 * @example
 * const tiers = coherentTiers({
 *   l1: memoryBackend({ maxEntries: 10_000 }),
 *   l2: new RedisBackend({ url, namespace: 'app:' }),
 *   redis: { url },
 * });
 * await tiers.set(key, CacheValue.fromTtl(user, { ttlMs: 60_000 }));
 */
export function coherentTiers<L1 extends ClearableBackend, L2 extends CacheBackend>(
  options: CoherentTiersOptions<L1, L2>,
): CoherentTiers<L1, L2> {
  return new CoherentTiers(options);
}
