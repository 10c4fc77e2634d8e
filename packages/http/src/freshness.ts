import { type Directives, deltaSeconds, parseCacheControl } from './cache-control.js';
import { getHeader, getHeaderLines, type HeaderList } from './headers.js';
import { parseHttpDate } from './http-date.js';
import { parseTargetedField } from './structured-field.js';
import type { StoredResponse } from './stored-response.js';

/** Status codes a cache may give heuristic freshness to (RFC 9110 section 15.1). */
const HEURISTIC_STATUSES = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);

/** How the engine reads freshness (the `heuristic` part of the options). */
export interface FreshnessSettings {
  /** Fraction of the time since `Last-Modified` a response without explicit freshness stays fresh. */
  readonly heuristicFraction: number;
  /** Upper bound of heuristic freshness, ms. */
  readonly maxHeuristicMs: number;
  /** Field names of targeted cache-control fields honoured before `Cache-Control` (RFC 9213), lower case. */
  readonly targetedFields: readonly string[];
}

/**
 * The directives that govern a response for this cache: the first targeted field (`CDN-Cache-Control`) that is
 * present and parses to at least one directive, else `Cache-Control` (with `Pragma: no-cache` when it is absent).
 */
export function responseDirectives(
  headers: HeaderList,
  targeted: readonly string[],
): { cc: Directives; targeted: boolean } {
  for (const field of targeted) {
    const lines = getHeaderLines(headers, field);
    if (lines.length === 0) continue;
    const parsed = parseTargetedField(lines);
    if (parsed !== undefined && parsed.map.size > 0) return { cc: parsed, targeted: true };
  }
  return { cc: parseCacheControl(getHeaderLines(headers, 'cache-control')), targeted: false };
}

/** What the engine needs to know about a stored response, computed once per stored object. */
export interface ResponseFacts {
  readonly cc: Directives;
  /** Freshness lifetime in ms (0: stale at once). */
  readonly lifetimeMs: number;
  /** Age when received, ms (RFC 9111 section 4.2.3 corrected_initial_age). */
  readonly initialAgeMs: number;
  /** `no-cache` (with or without field names): every reuse needs a successful validation. */
  readonly noCache: boolean;
  /** `must-revalidate`, `proxy-revalidate` or `s-maxage`: never served stale. */
  readonly mustRevalidate: boolean;
  readonly staleWhileRevalidateMs: number;
  readonly staleIfErrorMs: number;
  readonly etag: string | undefined;
  readonly lastModified: string | undefined;
}

const facts = new WeakMap<StoredResponse, ResponseFacts>();

/** Age value of the `Age` field: its first line's non-negative integer, else 0 (invalid values are ignored). */
function ageValueSeconds(headers: HeaderList): number {
  const lines = getHeaderLines(headers, 'age');
  if (lines.length === 0) return 0;
  const first = (lines[0] as string).split(',')[0]?.trim() ?? '';
  const n = deltaSeconds(first);
  return n ?? 0;
}

/** Facts about `stored` (memoized per object: a memory-tier hit computes nothing twice). */
export function factsOf(stored: StoredResponse, settings: FreshnessSettings): ResponseFacts {
  const known = facts.get(stored);
  if (known !== undefined) return known;
  const computed = computeFacts(stored, settings);
  facts.set(stored, computed);
  return computed;
}

function computeFacts(stored: StoredResponse, settings: FreshnessSettings): ResponseFacts {
  const headers = stored.headers;
  const { cc, targeted } = responseDirectives(headers, settings.targetedFields);
  const date = parseHttpDate(getHeader(headers, 'date')) ?? stored.responseTime;
  const apparentAge = Math.max(0, stored.responseTime - date);
  const correctedAgeValue = ageValueSeconds(headers) * 1000 + (stored.responseTime - stored.requestTime);
  const initialAgeMs = Math.max(apparentAge, correctedAgeValue);
  const override = stored.override;
  const noCache =
    cc.map.has('no-cache') || (cc.map.size === 0 && /no-cache/i.test(getHeader(headers, 'pragma') ?? ''));
  const mustRevalidate =
    cc.map.has('must-revalidate') || cc.map.has('proxy-revalidate') || cc.map.has('s-maxage');
  const etag = getHeader(headers, 'etag');
  const lastModified = getHeader(headers, 'last-modified');
  if (override !== undefined) {
    return {
      cc,
      lifetimeMs: override.ttlMs,
      initialAgeMs: 0,
      noCache: false,
      mustRevalidate: false,
      staleWhileRevalidateMs: override.staleWhileRevalidateMs ?? 0,
      staleIfErrorMs: override.staleIfErrorMs ?? 0,
      etag,
      lastModified,
    };
  }
  return {
    cc,
    lifetimeMs: lifetime(stored, cc, targeted, date, settings),
    initialAgeMs,
    noCache,
    mustRevalidate,
    staleWhileRevalidateMs: (deltaSeconds(cc.map.get('stale-while-revalidate')) ?? 0) * 1000,
    staleIfErrorMs: (deltaSeconds(cc.map.get('stale-if-error')) ?? 0) * 1000,
    etag,
    lastModified,
  };
}

/** Freshness lifetime (RFC 9111 section 4.2.1), for a shared cache. */
function lifetime(
  stored: StoredResponse,
  cc: Directives,
  targeted: boolean,
  date: number,
  settings: FreshnessSettings,
): number {
  // A directive given twice with different values is invalid: the response is treated as stale.
  const sMaxAge = cc.map.get('s-maxage');
  if (sMaxAge !== undefined) {
    if (cc.duplicates.has('s-maxage')) return 0;
    return (deltaSeconds(sMaxAge) ?? 0) * 1000;
  }
  const maxAge = cc.map.get('max-age');
  if (maxAge !== undefined) {
    if (cc.duplicates.has('max-age')) return 0;
    return (deltaSeconds(maxAge) ?? 0) * 1000;
  }
  // A targeted field (CDN-Cache-Control) replaces Cache-Control and Expires (RFC 9213 section 2.1).
  const expiresLines = targeted ? [] : getHeaderLines(stored.headers, 'expires');
  if (expiresLines.length > 0) {
    if (expiresLines.length > 1) return 0;
    const expires = parseHttpDate(expiresLines[0]);
    if (expires === undefined) return 0; // invalid dates, "0" included, are in the past
    return Math.max(0, expires - date);
  }
  if (!HEURISTIC_STATUSES.has(stored.status) && !cc.map.has('public')) return 0;
  const lastModified = parseHttpDate(getHeader(stored.headers, 'last-modified'));
  if (lastModified === undefined || lastModified >= date) return 0;
  return Math.min(settings.maxHeuristicMs, Math.floor((date - lastModified) * settings.heuristicFraction));
}

/** True when the response carries explicit freshness (`s-maxage`, `max-age` or `Expires`). */
export function hasExplicitFreshness(headers: HeaderList, cc: Directives): boolean {
  return cc.map.has('s-maxage') || cc.map.has('max-age') || getHeaderLines(headers, 'expires').length > 0;
}

/** Whether a status may be stored with heuristic freshness. */
export function heuristicallyCacheable(status: number): boolean {
  return HEURISTIC_STATUSES.has(status);
}

/** Current age of `stored` at `now`, ms (RFC 9111 section 4.2.3). */
export function currentAgeMs(stored: StoredResponse, f: ResponseFacts, now: number): number {
  return f.initialAgeMs + Math.max(0, now - stored.responseTime);
}
