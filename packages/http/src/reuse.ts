import { type Directives, deltaSeconds, parseCacheControl } from './cache-control.js';
import { isConditional } from './conditional.js';
import type { ResponseFacts } from './freshness.js';
import { getHeader } from './headers.js';
import type { CacheRequest } from './policy/request.js';
import { partialSlice } from './range.js';
import type { StoredResource, StoredResponse } from './stored-response.js';
import { languageMatches, varyMatches } from './vary.js';

/** A request's own cache directives. */
export interface RequestDirectives {
  readonly cc: Directives;
  /** `Cache-Control: no-cache`, or `Pragma: no-cache` without `Cache-Control`. */
  readonly noCache: boolean;
}

/** The directives of a request without `Cache-Control` and `Pragma` (most of them). */
const NONE: RequestDirectives = { cc: parseCacheControl(null), noCache: false };

/** The request's directives (RFC 9111 section 5.2.1, `Pragma` section 5.4). */
export function requestDirectives(request: CacheRequest): RequestDirectives {
  const value = request.headers.get('cache-control');
  if (value === null && request.headers.get('pragma') === null) return NONE;
  const cc = parseCacheControl(value);
  const noCache =
    cc.map.has('no-cache') || (value === null && /no-cache/i.test(request.headers.get('pragma') ?? ''));
  return { cc, noCache };
}

/** The newest stored variant whose `Vary` values match the request, else one chosen by language preference. */
export function select(resource: StoredResource, request: CacheRequest): StoredResponse | undefined {
  let partial: StoredResponse | undefined;
  for (const variant of resource.variants) {
    if (!varyMatches(variant.vary, request.headers)) continue;
    if (variant.status !== 206) return variant;
    // a stored part answers only the range requests it covers, and only when no complete response is stored
    if (
      partial === undefined &&
      partialSlice(request.headers, variant.headers, variant.body.byteLength) !== undefined
    ) {
      partial = variant;
    }
  }
  if (partial !== undefined) return partial;
  for (const variant of resource.variants) {
    if (variant.status === 206) continue;
    if (languageMatches(variant.vary, getHeader(variant.headers, 'content-language'), request.headers))
      return variant;
  }
  return undefined;
}

/** True when `a` is a copy of `b` (same response received at the same instant). */
export function sameResponse(a: StoredResponse, b: StoredResponse | undefined): boolean {
  return (
    b !== undefined &&
    a.responseTime === b.responseTime &&
    a.requestTime === b.requestTime &&
    a.status === b.status
  );
}

/**
 * How a selected stored response may be used: `fresh`; `stale-ok` (the request allows it stale, `max-stale`);
 * `revalidate-in-background` (within stale-while-revalidate); `request` (the request asks for a fresher one);
 * `validate` (stale, or `no-cache`: the origin must confirm it).
 */
export type Reuse = 'fresh' | 'stale-ok' | 'revalidate-in-background' | 'request' | 'validate';

/** May a stored response with facts `f` and age `age` answer a request with `d` (RFC 9111 section 4.2, 4.2.4)? */
export function reusable(f: ResponseFacts, age: number, d: RequestDirectives): Reuse {
  const fresh = f.lifetimeMs > age;
  if (f.noCache) return 'validate';
  if (d.noCache) return 'request';
  const maxAge = deltaSeconds(d.cc.map.get('max-age'));
  if (maxAge !== undefined && age > maxAge * 1000) return 'request';
  const minFresh = deltaSeconds(d.cc.map.get('min-fresh'));
  if (minFresh !== undefined && f.lifetimeMs - age < minFresh * 1000) return 'request';
  if (fresh) return 'fresh';
  if (f.mustRevalidate) return 'validate';
  const maxStale = d.cc.map.get('max-stale');
  if (maxStale !== undefined) {
    const limit = maxStale === true ? Number.POSITIVE_INFINITY : (deltaSeconds(maxStale) ?? 0) * 1000;
    if (age - f.lifetimeMs <= limit) return 'stale-ok';
  }
  if (f.staleWhileRevalidateMs > 0 && age - f.lifetimeMs <= f.staleWhileRevalidateMs)
    return 'revalidate-in-background';
  return 'validate';
}

/** Only plain requests are collapsed: directives or conditions of their own call for their own origin call. */
export function collapsible(request: CacheRequest): boolean {
  const h = request.headers;
  return (
    h.get('cache-control') === null &&
    h.get('pragma') === null &&
    !isConditional(h) &&
    h.get('range') === null
  );
}
