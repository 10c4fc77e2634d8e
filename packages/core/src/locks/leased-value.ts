import { CacheValue } from '../cache-value.js';
import type { Lease } from './lock-store.js';

/**
 * A value written by the holder of a lease, so that a store able to fence (a `RedisBackend` given to
 * `redisLocks({ backend })`) checks the lease in the same atomic step as the write and refuses it, with
 * `LEASE_LOST`, once the lease has ended. Other stores see an ordinary {@link CacheValue}. Serializing keeps the
 * lease (`withData`), so it reaches the byte level of a backend, through every tier of a composition.
 */
export class LeasedValue<T> extends CacheValue<T> {
  /** The lease the writer holds. */
  readonly lease: Lease;
  /**
   * The write is the holder's last act under the lease: a store that fences may end the lease in the same atomic
   * step as a successful write (and wake its waiters), sparing a separate release. The holder still calls
   * `release`, which then has nothing left to do.
   */
  readonly releases: boolean;

  constructor(value: CacheValue<T>, lease: Lease, releases = false) {
    super(value.data, value.expire, value.stale);
    this.lease = lease;
    this.releases = releases;
  }

  override withData<U>(data: U): LeasedValue<U> {
    return new LeasedValue(new CacheValue(data, this.expire, this.stale), this.lease, this.releases);
  }
}

/** The lease a value was written under, when it is a {@link LeasedValue}. */
export function leaseOf(value: CacheValue<unknown>): Lease | undefined {
  return value instanceof LeasedValue ? value.lease : undefined;
}
