import {
  type AcquireResult,
  type CacheBackend,
  CacheError,
  type CacheKey,
  type CacheValue,
  type Lease,
  type LockStore,
} from '@cache/core';
import type { Counters, Emitter } from './events.js';
import type { Flight, Loader, LoaderContext } from './flight.js';
import { isTagged, type TagClock } from './tags.js';

/** A step of the lock the cache reports a failure of. */
export type LockOperation = 'acquire' | 'renew' | 'release';

/** What the distributed lock needs of the cache. */
export interface LockHost {
  readonly store: CacheBackend;
  readonly now: () => number;
  readonly counters: Counters;
  readonly emitter: Emitter;
  readonly tags: TagClock;
}

/**
 * One loader per key across processes: wraps the loader of an in-process flight (already one per key in this
 * process) so that it first takes the key's lock in the shared {@link LockStore}.
 * - Taken: the loader runs, its lease renewed every third of `leaseMs` while it runs; the cache writes the value
 *   under the lease (fenced) and then releases it, whatever happened ({@link DistributedLock.release}).
 * - Held by another process: wait for its release notice (or the store's poll, or the end of its lease), read
 *   the store again, and return the value it wrote without storing it again; try again when there is none.
 * - The lock store failed (down, breaker open, deadline): report it and run the loader anyway, under the
 *   in-process lock only. A sick lock store never fails nor holds a request longer than its deadline.
 */
export class DistributedLock {
  readonly store: LockStore;
  readonly #host: LockHost;

  constructor(store: LockStore, host: LockHost) {
    this.store = store;
    this.#host = host;
  }

  /** `loader`, run by one process at a time per key (see the class). */
  wrap<T>(loader: Loader<T>, flight: Flight<T>): Loader<T> {
    return (ctx) => this.#run(loader, ctx, flight);
  }

  async #run<T>(loader: Loader<T>, ctx: LoaderContext<T>, flight: Flight<T>): Promise<T> {
    const { key, signal } = ctx;
    for (;;) {
      let result: AcquireResult;
      try {
        result = await this.store.acquire(key, { signal });
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        this.#host.counters.lockFallbacks++;
        this.#report(key, 'acquire', error);
        return loader(ctx);
      }
      if (signal.aborted) {
        // The run ended (hard timeout, close) while the lock was being taken: give it back at once.
        if (result.acquired) this.#release(result.lease);
        throw signal.reason;
      }
      if (result.acquired) {
        flight.lease = result.lease;
        flight.renewal = this.#renewEvery(result.lease, flight);
        // Another process may have written the value and released the lock since this one read the store; a lock
        // store that saw the entry absent as it took the lock (redisLocks with its backend) spares the read.
        if (result.entryAbsent === true) return loader(ctx);
        const landed = await this.#landed<T>(key);
        if (landed !== undefined) {
          ctx.skip();
          return landed.data;
        }
        return loader(ctx);
      }
      this.#host.counters.lockWaits++;
      const pollMs = Math.max(1, Math.min(this.store.pollMs, result.retryInMs + 1));
      await this.store.waitForRelease(key, { timeoutMs: pollMs, signal });
      if (signal.aborted) throw signal.reason;
      const landed = await this.#landed<T>(key);
      if (landed !== undefined) {
        ctx.skip(); // the leader stored it: serve it, do not store it again
        return landed.data;
      }
    }
  }

  /** The fresh value in the store, if one has landed; a failed read is none (the loop then takes the lock). */
  async #landed<T>(key: CacheKey): Promise<CacheValue<T> | undefined> {
    let value: CacheValue<T> | undefined;
    try {
      value = await this.#host.store.get<T>(key);
      // A tagged entry is served only once its tags are checked, as on the caller's own read.
      if (value !== undefined && isTagged(value.data)) value = await this.#host.tags.vet<T>(value);
    } catch {
      return undefined; // the store's failures are the store's to report, on the caller's own read
    }
    return value !== undefined && value.state(this.#host.now()) === 'actual' ? value : undefined;
  }

  #renewEvery<T>(lease: Lease, flight: Flight<T>): ReturnType<typeof setInterval> {
    const timer = setInterval(
      () => {
        this.store.renew(lease).then(
          (held) => {
            // An answer that comes after the run gave its lease back (its write may end it) is no loss.
            if (held || flight.lease !== lease) return;
            clearInterval(timer);
            this.#report(
              lease.key,
              'renew',
              new CacheError(
                'LEASE_LOST',
                `the lease on ${lease.key.canonical} ended while its loader ran: another process may load it too`,
                { key: lease.key.canonical, backend: this.store.label, operation: 'lock' },
              ),
            );
          },
          (error: unknown) => this.#report(lease.key, 'renew', error),
        );
      },
      Math.max(1, Math.floor(lease.leaseMs / 3)),
    );
    (timer as { unref?: () => void }).unref?.();
    return timer;
  }

  /** Ends the run's lease, if it holds one: renewal stopped, lock released (a failure is reported). */
  release(flight: Flight<unknown>): void {
    clearInterval(flight.renewal);
    flight.renewal = undefined;
    const lease = flight.lease;
    if (lease === undefined) return;
    flight.lease = undefined;
    this.#release(lease);
  }

  #release(lease: Lease): void {
    this.store.release(lease).catch((error: unknown) => this.#report(lease.key, 'release', error));
  }

  #report(key: CacheKey, operation: LockOperation, error: unknown): void {
    const wrapped = CacheError.wrap(
      error,
      'BACKEND',
      `${operation} of the lock failed in "${this.store.label}"`,
      {
        backend: this.store.label,
        key: key.canonical,
        operation: 'lock',
      },
    );
    this.#host.emitter.report({ type: 'lock-error', key: key.canonical, operation, error: wrapped });
  }
}
