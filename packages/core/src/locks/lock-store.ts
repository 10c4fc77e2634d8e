import type { CacheKey } from '../cache-key.js';

/**
 * One holder's claim on a key, valid for `leaseMs` after it was taken or last renewed. The `token` is random and
 * known only to the holder: renewing and releasing compare it, so a holder never touches another's lock.
 */
export interface Lease {
  /** The key the lease is on. */
  readonly key: CacheKey;
  /** The holder's secret: only a call that presents it renews or releases the lease. */
  readonly token: string;
  /**
   * Fencing number: larger for every lease taken later on the same key (while the store keeps its counter). A
   * store that receives writes can refuse one whose fence is lower than one it has already seen.
   */
  readonly fence: number;
  /** How long the lease lasts without a renewal, in milliseconds. */
  readonly leaseMs: number;
}

/** The outcome of {@link LockStore.acquire}: the lease, or how long the current holder's lease has left. */
export type AcquireResult =
  | {
      readonly acquired: true;
      readonly lease: Lease;
      /**
       * True when the store knows that the entry the lock guards did not exist at the instant the lock was taken
       * (a store that keeps the entries too, and checks in the same atomic step): the holder may load without
       * reading the entry again, since nobody wrote it between its miss and its lock. Absent: read it again.
       */
      readonly entryAbsent?: boolean;
    }
  | {
      readonly acquired: false;
      /** Milliseconds until the holder's lease ends unless renewed: the latest moment worth trying again. */
      readonly retryInMs: number;
    };

/** Options of {@link LockStore.acquire}. */
export interface AcquireOptions {
  /** How long the lease lasts without a renewal, in milliseconds. @default the store's `leaseMs` */
  readonly leaseMs?: number;
  /** Gives up the attempt; the store may still have taken the lock, which then ends with its lease. */
  readonly signal?: AbortSignal;
}

/** Options of {@link LockStore.waitForRelease}. */
export interface WaitOptions {
  /** Longest wait in milliseconds: past it the wait ends as if a release had been seen (poll again). */
  readonly timeoutMs: number;
  /** Ends the wait early. */
  readonly signal?: AbortSignal;
}

/**
 * Locks shared by every process that uses the same store, one per key, held through leases. `@cache/cache` takes
 * one (`createCache({ locks })`) so that one process at a time runs the loader of a key; the others wait for the
 * leader's value to land in the shared tier. `@cache/redis`'s `redisLocks()` is one; `memoryLocks()` is one for
 * a single process (tests, or caches sharing one process). Implement it for another store.
 *
 * Contract:
 * - `acquire` takes the key when nobody holds it and writes a lock that ends by itself after `leaseMs` (a holder
 *   that dies never holds a key for longer);
 * - `renew` and `release` act only when the stored token is the lease's, and say whether it was;
 * - `waitForRelease` resolves when a release of the key is seen, or at `timeoutMs` at the latest, never later:
 *   a lost notification costs a bounded delay, never a hang;
 * - every method rejects with a `CacheError` when the store fails; callers treat a sick lock store as absent.
 */
export interface LockStore {
  /** Name in reports and errors. */
  readonly label: string;
  /** Length of a lease when `acquire` is not told, in milliseconds. */
  readonly leaseMs: number;
  /**
   * How long a waiter waits for a release notice before it looks again by itself, in milliseconds: the most a lost
   * notice costs.
   */
  readonly pollMs: number;
  /** Takes `key` for `leaseMs`, or says for how long another holder keeps it. */
  acquire(key: CacheKey, options: AcquireOptions): Promise<AcquireResult>;
  /** Extends `lease` by its `leaseMs` from now; false when it is no longer held with its token (ended, taken). */
  renew(lease: Lease): Promise<boolean>;
  /** Ends `lease` and wakes the waiters of its key; false when it was no longer held with its token. */
  release(lease: Lease): Promise<boolean>;
  /** Resolves once a release of `key` is seen, or after `timeoutMs`, or when `signal` aborts. */
  waitForRelease(key: CacheKey, options: WaitOptions): Promise<void>;
  /** Releases connections and timers the store owns. */
  close?(): Promise<void>;
}
