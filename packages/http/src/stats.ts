import type { CacheStatus } from './cache-status.js';

/** Counters of what the cache answered, since it was created (`HttpCache.stats()`). */
export interface HttpCacheStats {
  /** Fresh responses served from the cache (collapsed ones included). */
  readonly hits: number;
  /** Stale responses served from the cache (stale-while-revalidate, max-stale, `stalePolicy: 'return'`). */
  readonly staleHits: number;
  /** Requests that shared another request's origin call. */
  readonly collapsed: number;
  /** Requests sent to the origin because nothing usable was stored (`uri-miss`, `vary-miss`, `miss`). */
  readonly misses: number;
  /** Stored responses revalidated with the origin (`fwd=stale` or `fwd=request`), 304 or not. */
  readonly revalidations: number;
  /** Revalidations the origin answered with 304 (the stored body was kept). */
  readonly notModified: number;
  /** Responses written to the store. */
  readonly stored: number;
  /** Stale responses that stood in for a failed origin (`stale-if-error`, fail-safe). */
  readonly failSafe: number;
  /** Requests the cache left alone: the request predicate, `Authorization`, a method it does not cache. */
  readonly bypassed: number;
  /** Origin calls that failed with no stale response to stand in (the caller got the error). */
  readonly originErrors: number;
}

/** Mutable counters behind {@link HttpCacheStats}. */
export class Counters {
  hits = 0;
  staleHits = 0;
  collapsed = 0;
  misses = 0;
  revalidations = 0;
  notModified = 0;
  stored = 0;
  failSafe = 0;
  bypassed = 0;
  originErrors = 0;

  /** Counts one answer by its `Cache-Status`. */
  count(status: CacheStatus): void {
    if (status.collapsed === true) this.collapsed++;
    if (status.stored === true) this.stored++;
    if (status.hit) {
      if (status.ttl !== undefined && status.ttl < 0) this.staleHits++;
      else this.hits++;
      return;
    }
    switch (status.fwd) {
      case 'bypass':
      case 'method':
        this.bypassed++;
        return;
      case 'stale':
      case 'request':
        if (status.detail === 'fail-safe' || status.detail === 'stale-if-error') {
          this.failSafe++;
          return;
        }
        this.revalidations++;
        if (status.fwdStatus === 304) this.notModified++;
        return;
      case undefined:
        return;
      default:
        this.misses++;
    }
  }

  snapshot(): HttpCacheStats {
    return {
      hits: this.hits,
      staleHits: this.staleHits,
      collapsed: this.collapsed,
      misses: this.misses,
      revalidations: this.revalidations,
      notModified: this.notModified,
      stored: this.stored,
      failSafe: this.failSafe,
      bypassed: this.bypassed,
      originErrors: this.originErrors,
    };
  }
}
