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

  constructor(value: CacheValue<T>, lease: Lease) {
    super(value.data, value.expire, value.stale);
    this.lease = lease;
  }

  override withData<U>(data: U): LeasedValue<U> {
    return new LeasedValue(new CacheValue(data, this.expire, this.stale), this.lease);
  }
}

/** The lease a value was written under, when it is a {@link LeasedValue}. */
export function leaseOf(value: CacheValue<unknown>): Lease | undefined {
  return value instanceof LeasedValue ? value.lease : undefined;
}
