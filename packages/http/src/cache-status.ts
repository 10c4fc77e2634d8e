/**
 * Why a request went forward to the origin (RFC 9211 section 2.2 `fwd`):
 * - `bypass`: the cache was configured not to handle this request (a request predicate said no, `Authorization`);
 * - `method`: the method is not cacheable;
 * - `uri-miss`: nothing stored for the URL (the key);
 * - `vary-miss`: responses are stored for the key, none for this request's `Vary` values;
 * - `miss`: the stored response could not be used (e.g. a corrupt entry);
 * - `request`: the request asked for a fresh answer (`no-cache`, `max-age=0`);
 * - `stale`: the stored response was stale and had to be revalidated.
 */
export type ForwardReason = 'bypass' | 'method' | 'uri-miss' | 'vary-miss' | 'miss' | 'request' | 'stale';

/** One cache's member of the `Cache-Status` field (RFC 9211). */
export interface CacheStatus {
  /** Served from the cache without going to the origin. */
  readonly hit: boolean;
  /** Why the origin was asked, when it was. */
  readonly fwd?: ForwardReason;
  /** Status of the origin's response, when it was asked. */
  readonly fwdStatus?: number;
  /** Remaining freshness, in seconds (negative: stale by that much). */
  readonly ttl?: number;
  /** The origin's response was stored. */
  readonly stored?: boolean;
  /** The origin's response was collapsed with another request's. */
  readonly collapsed?: boolean;
  /** Implementation detail: `stale-while-revalidate`, `stale-if-error`, `fail-safe`, `too-large`, `not-storable`. */
  readonly detail?: string;
}

const TOKEN_START = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/;

/** The cache's name as an sf-token when it is one, else as an sf-string. */
export function formatCacheName(name: string): string {
  return TOKEN_START.test(name) ? name : `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Formats one `Cache-Status` member; `name` was formatted by {@link formatCacheName}. */
export function formatCacheStatus(name: string, status: CacheStatus): string {
  let out = name;
  if (status.hit) out += '; hit';
  if (status.fwd !== undefined) out += `; fwd=${status.fwd}`;
  if (status.fwdStatus !== undefined) out += `; fwd-status=${status.fwdStatus}`;
  if (status.ttl !== undefined && Number.isFinite(status.ttl)) out += `; ttl=${Math.trunc(status.ttl)}`;
  if (status.stored === true) out += '; stored';
  if (status.collapsed === true) out += '; collapsed';
  if (status.detail !== undefined)
    out += `; detail=${/^[A-Za-z][A-Za-z0-9-]*$/.test(status.detail) ? status.detail : `"${status.detail}"`}`;
  return out;
}
