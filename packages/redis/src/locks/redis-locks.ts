import {
  type AcquireOptions,
  type AcquireResult,
  CacheError,
  type CacheKey,
  CircuitBreaker,
  type Lease,
  type LockStore,
  lockToken,
  urlEncodeKey,
  type WaitOptions,
} from '@cache/core';
import { parseAddress } from '../address.js';
import { resolveBackoff } from '../backoff.js';
import type { ConnectionSettings } from '../client-factory.js';
import { targetCount } from '../create-link.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_RESPONSE_TIMEOUT_MS,
  DeadlineError,
  positiveMs,
  withDeadline,
} from '../deadline.js';
import { protocolError } from '../link.js';
import type { RedisArg } from '../node-redis.js';
import type { RedisBackend } from '../redis-backend.js';
import { toCacheError } from '../redis-errors.js';
import { LockConnection, type LockTarget } from './connection.js';
import type { RedisLocksOptions } from './options.js';
import { ACQUIRE, FENCED_WRITE, RELEASE, RENEW, type Script } from './scripts.js';
import { slotOf, tagForSlot } from './slot.js';

const DEFAULT_LEASE_MS = 10_000;
const DEFAULT_POLL_MS = 1000;
const DEFAULT_FENCE_TTL_MS = 86_400_000;
/** Sharded channels of release notices on a cluster: a key's notice goes on channel `slot % SHARDS`. */
const SHARDS = 16;
const ignore = (): void => undefined;

/** A lease taken in Redis: the lock key it holds, and the store that took it (which can fence writes with it). */
export class RedisLease implements Lease {
  readonly key: CacheKey;
  readonly token: string;
  readonly fence: number;
  readonly leaseMs: number;
  /** The Redis key of the lock: `prefix{tag}L:<entry key>`. */
  readonly lockKey: Buffer;
  /** The store that took the lease. */
  readonly owner: RedisLocks;
  /** A fenced write ended the lease in its own script (`LeasedValue.releases`): nothing is left to release. */
  releasedByWrite = false;

  constructor(
    owner: RedisLocks,
    key: CacheKey,
    lockKey: Buffer,
    token: string,
    fence: number,
    leaseMs: number,
  ) {
    this.owner = owner;
    this.key = key;
    this.lockKey = lockKey;
    this.token = token;
    this.fence = fence;
    this.leaseMs = leaseMs;
  }
}

/**
 * Locks in Redis (single node or Cluster), one per key, for `@cache/cache`'s one loader per key across processes.
 * A lock is `SET lock token NX PX leaseMs` (it always has a TTL); renewing and releasing are scripts that compare
 * the token; a release publishes a notice that wakes the waiters at once (`PUBLISH`, or `SPUBLISH` on a cluster),
 * and waiters look again by themselves every `pollMs`, so a lost notice costs a delay, never a hang. Each lease
 * carries a fence. Given the `backend`, a lease holder's write to it is checked against the lease in the same
 * script (see `LeasedValue`). Every command has a deadline and goes through a circuit breaker.
 */
export class RedisLocks implements LockStore {
  readonly label: string;
  readonly leaseMs: number;
  readonly pollMs: number;
  /** The backend whose writes are fenced, when given. */
  readonly backend: RedisBackend | undefined;
  /** The breaker every lock command goes through; `undefined` with `breaker: false`. */
  readonly circuit: CircuitBreaker | undefined;
  /** The start of every lock key and channel. */
  readonly prefix: string;
  readonly #prefix: Buffer;
  readonly #fenceTtlMs: number;
  readonly #timeoutMs: number;
  readonly #connection: LockConnection;
  /** Waiters by lock key (base64, as in the notices), woken by a release notice. */
  readonly #waiters = new Map<string, Set<() => void>>();
  /** Lock commands under way (a release after a load), awaited by `close()`. */
  readonly #pending = new Set<Promise<unknown>>();
  #subscription: Promise<void> | undefined;
  #subscribed = false;
  #closed = false;

  constructor(options: RedisLocksOptions) {
    if (options === null || typeof options !== 'object' || targetCount(options) !== 1) {
      throw new CacheError(
        'INVALID_OPTIONS',
        'redisLocks: give exactly one of url, cluster, client or clusterClient',
      );
    }
    this.label = options.label ?? 'redis-locks';
    this.backend = options.backend;
    this.prefix = options.prefix ?? `${options.backend?.namespace ?? ''}lock:`;
    if (typeof this.prefix !== 'string' || /[{}]/.test(this.prefix)) {
      throw new CacheError('INVALID_OPTIONS', 'redisLocks: prefix must be a string without "{" or "}"');
    }
    this.#prefix = Buffer.from(this.prefix, 'utf8');
    this.leaseMs = positiveMs(options.leaseMs, DEFAULT_LEASE_MS, 'leaseMs', 'redisLocks: ');
    this.pollMs = positiveMs(options.pollMs, DEFAULT_POLL_MS, 'pollMs', 'redisLocks: ');
    this.#fenceTtlMs = positiveMs(options.fenceTtlMs, DEFAULT_FENCE_TTL_MS, 'fenceTtlMs', 'redisLocks: ');
    this.#timeoutMs = positiveMs(
      options.responseTimeoutMs,
      DEFAULT_RESPONSE_TIMEOUT_MS,
      'responseTimeoutMs',
      'redisLocks: ',
    );
    const connectTimeoutMs = positiveMs(
      options.connectTimeoutMs,
      DEFAULT_CONNECT_TIMEOUT_MS,
      'connectTimeoutMs',
      'redisLocks: ',
    );
    this.circuit =
      options.breaker === false
        ? undefined
        : new CircuitBreaker({ label: this.label, failureThreshold: 3, ...options.breaker });
    this.#connection = new LockConnection(lockTarget(options), connectionSettings(options, connectTimeoutMs));
  }

  /** The Redis key of the lock on `key`: the prefix, a hash tag of the entry's slot, `L:`, the entry's key. */
  lockKey(key: CacheKey): Buffer {
    return this.#keyOf(key, 'L:');
  }

  #keyOf(key: CacheKey, kind: string): Buffer {
    const entry =
      this.backend === undefined ? Buffer.from(urlEncodeKey(key), 'utf8') : this.backend.storeKey(key);
    const head = Buffer.from(`{${tagForSlot(slotOf(entry))}}${kind}`, 'latin1');
    return Buffer.concat([this.#prefix, head, entry]);
  }

  acquire(key: CacheKey, options: AcquireOptions = {}): Promise<AcquireResult> {
    let leaseMs: number;
    let lockKey: Buffer;
    let keys: RedisArg[];
    try {
      options.signal?.throwIfAborted();
      leaseMs = positiveMs(options.leaseMs, this.leaseMs, 'leaseMs', 'redisLocks: ');
      lockKey = this.lockKey(key);
      keys = [lockKey, this.#keyOf(key, 'F:')];
      // With the backend, the same script says whether its entry exists (it shares the lock's slot): a holder
      // that took the lock on an absent entry need not read it again before loading.
      if (this.backend !== undefined) keys.push(this.backend.storeKey(key));
    } catch (error) {
      return Promise.reject(error);
    }
    const token = lockToken();
    const args = [token, String(Math.ceil(leaseMs)), String(this.#fenceTtlMs)];
    const attempt = this.#eval(key, ACQUIRE, keys, args);
    // An attempt that missed its deadline may still have taken the lock: give it back, by token, so that it does
    // not hold the key for a whole lease with nobody loading.
    attempt.catch((error: unknown) => {
      if (!CacheError.is(error, 'TIMEOUT')) return; // refused before it was sent, or answered: nothing taken
      this.#send(key, lockKey, ['EVAL', RELEASE.source, '1', lockKey, token, '', '']).catch(ignore);
    });
    return attempt.then((reply) => {
      if (!Array.isArray(reply) || reply.length < 2 || reply.length > 3) {
        throw this.#error(protocolError('lock acquire'), key);
      }
      const [taken, detail, exists] = reply as unknown[];
      if (taken === 1) {
        const fence = Number(Buffer.isBuffer(detail) ? detail.toString('latin1') : detail);
        if (!Number.isSafeInteger(fence)) throw this.#error(protocolError('lock acquire (fence)'), key);
        const lease = new RedisLease(this, key, lockKey, token, fence, leaseMs);
        return exists === 0 ? { acquired: true, lease, entryAbsent: true } : { acquired: true, lease };
      }
      if (taken !== 0 || typeof detail !== 'number') throw this.#error(protocolError('lock acquire'), key);
      // -2: released between the two commands (look again now); -1: a lock key without TTL, not written by us.
      return { acquired: false, retryInMs: detail === -1 ? leaseMs : Math.max(0, detail) };
    });
  }

  renew(lease: Lease): Promise<boolean> {
    const held = this.#own(lease);
    if (held instanceof Promise) return held;
    if (held.releasedByWrite) return Promise.resolve(false);
    return this.#eval(lease.key, RENEW, [held.lockKey], [held.token, String(Math.ceil(held.leaseMs))]).then(
      (reply) => reply === 1,
    );
  }

  release(lease: Lease): Promise<boolean> {
    const held = this.#own(lease);
    if (held instanceof Promise) return held;
    // Its fenced write released it already, in the same script (and woke the waiters).
    if (held.releasedByWrite) return Promise.resolve(true);
    const [channel, message] = this.#notice(held);
    const work = this.#eval(lease.key, RELEASE, [held.lockKey], [held.token, channel, message]).then(
      (reply) => {
        if (reply !== 1) return false;
        this.#shardNotice(held, message);
        return true;
      },
    );
    this.#pending.add(work);
    const forget = (): void => {
      this.#pending.delete(work);
    };
    work.then(forget, forget);
    return work;
  }

  waitForRelease(key: CacheKey, options: WaitOptions): Promise<void> {
    return new Promise((resolve) => {
      if (this.#closed || options.signal?.aborted) {
        resolve();
        return;
      }
      const id = this.lockKey(key).toString('base64');
      let set = this.#waiters.get(id);
      if (set === undefined) {
        set = new Set();
        this.#waiters.set(id, set);
      }
      const waiters = set;
      let settled = false;
      const done = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', done);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(id) === waiters) this.#waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, options.timeoutMs));
      options.signal?.addEventListener('abort', done);
      waiters.add(done);
      // Not subscribed yet: a release may come before the subscription does, so look again once it is there.
      if (!this.#subscribed) this.#listen().then(done, ignore);
    });
  }

  /**
   * Writes an entry of the fenced backend only while `lease` holds its lock (one script: check the token, `DEL`,
   * `HSET` with the fence in field `f`, `PEXPIREAT`); rejects with `LEASE_LOST` when it no longer does. With
   * `release` (`LeasedValue.releases`), the same script then ends the lease and publishes its release notice: the
   * waiters wake one round trip sooner, and `release(lease)` has nothing left to do.
   * @internal Called by `RedisBackend.write` for a `LeasedValue`.
   */
  async fencedWrite(
    lease: RedisLease,
    entryKey: RedisArg,
    hset: readonly RedisArg[],
    expireAt: number | undefined,
    release = false,
  ): Promise<void> {
    const [channel, message] = release ? this.#notice(lease) : ['', ''];
    const args: RedisArg[] = [
      lease.token,
      String(lease.fence),
      expireAt === undefined ? '' : String(expireAt),
      release ? '1' : '0',
      channel,
      message,
    ];
    for (let i = 2; i < hset.length; i++) args.push(hset[i] as RedisArg);
    const reply = await this.#eval(lease.key, FENCED_WRITE, [lease.lockKey, entryKey], args);
    if (reply === 1) {
      if (release) {
        lease.releasedByWrite = true;
        this.#shardNotice(lease, message);
      }
      return;
    }
    if (reply !== 0) throw this.#error(protocolError('fenced write'), lease.key);
    throw new CacheError(
      'LEASE_LOST',
      `${this.label}: the lease on ${lease.key.canonical} had ended before its value was written; not written`,
      { backend: this.label, key: lease.key.canonical, operation: 'write' },
    );
  }

  /**
   * The channel a release script publishes its notice on ('' on a cluster, which publishes on a sharded channel
   * afterwards) and the message: the lock key in base64, text that survives any key bytes (binary keys, UTF-8).
   */
  #notice(lease: RedisLease): [channel: string, message: string] {
    return [this.#connection.sharded ? '' : `${this.prefix}released`, lease.lockKey.toString('base64')];
  }

  /** On a cluster, the release notice on the lock's sharded channel; not awaited (it only saves waiters a poll). */
  #shardNotice(lease: RedisLease, message: string): void {
    if (!this.#connection.sharded) return;
    const shard = `${this.prefix}released:${slotOf(lease.lockKey) % SHARDS}`;
    this.#send(lease.key, shard, ['SPUBLISH', shard, message]).catch(ignore);
  }

  /** Waits for the releases under way (within the deadline), then closes the connections the store opened. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#pending]);
    for (const set of [...this.#waiters.values()]) for (const wake of [...set]) wake();
    await this.#connection.close(this.#timeoutMs);
  }

  /** `lease` as one of ours, or a promise of the answer for a lease this store did not make. */
  #own(lease: Lease): RedisLease | Promise<boolean> {
    if (lease instanceof RedisLease && lease.owner === this) return lease;
    return Promise.reject(
      new CacheError('INVALID_OPTIONS', `${this.label}: a lease from another lock store`, {
        backend: this.label,
        key: lease?.key?.canonical,
        operation: 'lock',
      }),
    );
  }

  #listen(): Promise<void> {
    if (this.#subscription !== undefined) return this.#subscription;
    const channels = this.#connection.sharded
      ? Array.from({ length: SHARDS }, (_, i) => `${this.prefix}released:${i}`)
      : [`${this.prefix}released`];
    const onMessage = (message: string): void => {
      const waiters = this.#waiters.get(message);
      if (waiters !== undefined) for (const wake of [...waiters]) wake();
    };
    const ms = this.#timeoutMs * 5;
    const subscription = withDeadline(
      this.#connection.subscribe(channels, onMessage),
      ms,
      () => new DeadlineError(ms, 'connection'),
    ).then(
      () => {
        this.#subscribed = true;
      },
      (error: unknown) => {
        this.#connection.dropSubscriber();
        // Try again on a wait after the next poll; meanwhile waiters poll.
        setTimeout(() => {
          if (this.#subscription === subscription) this.#subscription = undefined;
        }, this.pollMs).unref?.();
        throw error;
      },
    );
    subscription.catch(ignore);
    this.#subscription = subscription;
    return subscription;
  }

  /** Runs `script` (EVALSHA, then EVAL when the server does not know it) under the deadline and the breaker. */
  #eval(key: CacheKey, script: Script, keys: RedisArg[], args: RedisArg[]): Promise<unknown> {
    const route = keys[0] as RedisArg;
    const tail = [String(keys.length), ...keys, ...args];
    return this.#send(key, route, ['EVALSHA', script.sha, ...tail], (error) =>
      error instanceof Error && error.message.startsWith('NOSCRIPT')
        ? this.#connection.send(route, ['EVAL', script.source, ...tail])
        : Promise.reject(error),
    );
  }

  #send(
    key: CacheKey,
    route: RedisArg,
    args: RedisArg[],
    onError?: (error: unknown) => Promise<unknown>,
  ): Promise<unknown> {
    if (this.#closed)
      return Promise.reject(new CacheError('CLOSED', `${this.label} is closed`, { backend: this.label }));
    const ms = this.#timeoutMs;
    const run = (): Promise<unknown> => {
      let work = this.#connection.send(route, args);
      if (onError !== undefined) work = work.catch(onError);
      return withDeadline(
        work,
        ms,
        () => new DeadlineError(ms, this.#connection.connected ? 'command' : 'connection'),
      ).catch((error: unknown) => {
        throw this.#error(error, key);
      });
    };
    const circuit = this.circuit;
    if (circuit === undefined) return run();
    return Promise.resolve(circuit.run(run, { operation: 'lock', key: key.canonical }));
  }

  #error(error: unknown, key: CacheKey): CacheError {
    return toCacheError(error, 'lock', this.label, key.canonical);
  }
}

function lockTarget(options: RedisLocksOptions): LockTarget {
  if (options.client !== undefined) return { mode: 'client', client: options.client };
  if (options.clusterClient !== undefined) return { mode: 'cluster-client', cluster: options.clusterClient };
  if (options.url !== undefined) {
    const address = parseAddress(options.url);
    return { mode: 'single', address, database: options.database ?? address.database };
  }
  const nodes = (options.cluster?.nodes ?? []).map(parseAddress);
  if (nodes.length === 0)
    throw new CacheError('INVALID_OPTIONS', 'redisLocks: cluster.nodes must list a node');
  return { mode: 'cluster', nodes };
}

function connectionSettings(options: RedisLocksOptions, connectTimeoutMs: number): ConnectionSettings {
  const first =
    options.url !== undefined
      ? parseAddress(options.url)
      : options.cluster?.nodes[0] === undefined
        ? undefined
        : parseAddress(options.cluster.nodes[0]);
  const tls = options.tls ?? false;
  return {
    username: options.username ?? first?.username,
    password: options.password ?? first?.password,
    tls: tls === true || (tls === false && first?.tls === true) ? {} : tls,
    connectTimeoutMs,
    backoff: resolveBackoff(options.reconnect),
  };
}

/** Locks in Redis for `createCache({ locks })`: see {@link RedisLocks}. */
export function redisLocks(options: RedisLocksOptions): RedisLocks {
  return new RedisLocks(options);
}
