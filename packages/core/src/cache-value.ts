import { CacheError } from './errors.js';

/**
 * Where a value is on its timeline at a given instant:
 * - `actual`: fresh, before the stale instant;
 * - `stale`: past the stale instant but before expire: still servable, worth refreshing;
 * - `expired`: at or past expire: never served.
 */
export type CacheState = 'actual' | 'stale' | 'expired';

/**
 * Lifetimes relative to now, in milliseconds, for {@link CacheValue.fromTtl}. The one vocabulary of every
 * `@cache` package: `ttlMs` is how long the value is fresh, `graceMs` how long after that it is still kept and
 * may be served as stale.
 *
 * ```
 * now             now + ttlMs      now + ttlMs + graceMs
 *   │── fresh ───────│── stale ────────│── gone
 *   │◄── ttlMs ─────►│◄── graceMs ────►│
 * ```
 */
export interface CacheLifetime {
  /** Milliseconds from now during which the value is fresh. Omit for a value that is never stale and never expires. */
  readonly ttlMs?: number;
  /**
   * Milliseconds after `ttlMs` during which the stale value is still kept and may be served. Needs `ttlMs`;
   * finite and not negative.
   * @default 0 (no stale window: the value expires the moment its fresh time ends)
   */
  readonly graceMs?: number;
}

function toInstant(value: number | Date | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new CacheError(
      'INVALID_VALUE',
      `${what} must be a finite number of Unix milliseconds or a valid Date`,
    );
  }
  return Math.trunc(ms);
}

function toDuration(value: number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new CacheError('INVALID_VALUE', `${what} must be a finite number of milliseconds`);
  }
  return value;
}

/**
 * A cached value with its metadata. `expire` and `stale` are absolute instants in Unix milliseconds
 * (`undefined` = never). The timeline:
 *
 * ```
 * write           stale            expire
 *   │── actual ──────│── stale ────────│── expired (gone, never served)
 *   │◄── ttlMs ─────►│◄── graceMs ────►│   (as CacheValue.fromTtl counts them)
 * ```
 *
 * Fresh until the stale instant, served as stale until the expire instant, gone after. Expiry is checked
 * first, so a stale instant at or after expire never makes the value stale. Immutable.
 */
export class CacheValue<T> {
  /** The cached data. */
  readonly data: T;
  /** Absolute expiry in Unix milliseconds, or `undefined` for none. */
  readonly expire: number | undefined;
  /** Absolute instant after which the value is stale, in Unix milliseconds, or `undefined` for never. */
  readonly stale: number | undefined;

  /** Builds a value from absolute instants (Unix milliseconds or `Date`). Fractions of a millisecond are dropped. */
  constructor(data: T, expire?: number | Date, stale?: number | Date) {
    this.data = data;
    this.expire = toInstant(expire, 'expire');
    this.stale = toInstant(stale, 'stale');
  }

  /**
   * Builds a value that is fresh for `ttlMs` from `now`, then stale for `graceMs`: stale = now + ttlMs and
   * expire = now + ttlMs + graceMs. Without `graceMs` (or with `0`) there is no stale window: the value is fresh
   * until it expires and `stale` is left `undefined`, so stores write no stale field. Without `ttlMs` it never
   * turns stale and never expires. `graceMs` without `ttlMs` is an `INVALID_VALUE`.
   */
  static fromTtl<T>(data: T, lifetime: CacheLifetime = {}, now: number = Date.now()): CacheValue<T> {
    const ttl = toDuration(lifetime.ttlMs, 'ttlMs');
    const grace = toDuration(lifetime.graceMs, 'graceMs');
    if (grace !== undefined && grace < 0) {
      throw new CacheError('INVALID_VALUE', 'graceMs must not be negative');
    }
    if (ttl === undefined) {
      if (grace !== undefined) {
        throw new CacheError(
          'INVALID_VALUE',
          'graceMs needs ttlMs: grace is counted from the end of the fresh time',
        );
      }
      return new CacheValue(data);
    }
    if (grace === undefined || grace === 0) return new CacheValue(data, now + ttl);
    return new CacheValue(data, now + ttl + grace, now + ttl);
  }

  /**
   * Remaining time to live in milliseconds at `now`, never rounded to seconds: `undefined` when the value never
   * expires, `0` when it has expired.
   */
  ttl(now: number = Date.now()): number | undefined {
    return this.expire === undefined ? undefined : Math.max(0, this.expire - now);
  }

  /** The value's state at `now`. Expire is checked before stale. */
  state(now: number = Date.now()): CacheState {
    if (this.expire !== undefined && this.expire <= now) return 'expired';
    if (this.stale !== undefined && this.stale <= now) return 'stale';
    return 'actual';
  }

  /** True when the value has expired at `now`. */
  isExpired(now: number = Date.now()): boolean {
    return this.expire !== undefined && this.expire <= now;
  }

  /** The same metadata with other data, e.g. bytes after serialization. */
  withData<U>(data: U): CacheValue<U> {
    return new CacheValue(data, this.expire, this.stale);
  }
}
