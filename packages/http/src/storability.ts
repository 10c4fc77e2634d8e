import { deltaSeconds } from './cache-control.js';
import {
  type FreshnessSettings,
  hasExplicitFreshness,
  heuristicallyCacheable,
  responseDirectives,
} from './freshness.js';
import { getHeader, hasHeader } from './headers.js';
import type { ResolvedOptions } from './options.js';
import type { OriginResponse } from './origin.js';
import type { CacheRequest } from './policy/request.js';
import type { FreshnessOverride } from './stored-response.js';
import { storedRange } from './range.js';
import { varyNames } from './vary.js';

/** Statuses whose semantics this cache knows (for `must-understand`, RFC 9111 section 5.2.2.3). */
const UNDERSTOOD = new Set([
  200, 203, 204, 300, 301, 302, 303, 307, 308, 400, 403, 404, 405, 410, 414, 500, 501, 502, 503, 504,
]);

/** Whether a response may be stored, and why not (the `detail` of `Cache-Status`). */
export type Storability =
  | { readonly storable: true; readonly override: FreshnessOverride | undefined }
  | { readonly storable: false; readonly reason: string };

function no(reason: string): Storability {
  return { storable: false, reason };
}

/** RFC 9111 section 3 for a shared cache, then the application's policy. */
export function storability(
  request: CacheRequest,
  res: OriginResponse,
  o: ResolvedOptions,
  settings: FreshnessSettings,
): Storability {
  if (request.method !== 'GET') return no('method');
  const status = res.status;
  if (status < 200 || status === 304 || status > 999) return no('status');
  if (status === 206 && (request.headers.get('range') === null || storedRange(res.headers) === undefined)) {
    return no('status'); // only a single plain byte range, asked for, is stored as a part
  }
  const { cc } = responseDirectives(res.headers, settings.targetedFields);
  const requestCc = request.headers.get('cache-control');
  if (requestCc !== null && /(^|,)\s*no-store\s*(,|$)/i.test(requestCc)) return no('request-no-store');
  const mustUnderstand = cc.map.has('must-understand');
  if (mustUnderstand && !UNDERSTOOD.has(status)) return no('must-understand');
  if (cc.map.has('no-store') && !mustUnderstand) return no('no-store');
  if (cc.map.has('private')) return no('private');
  if (
    request.headers.get('authorization') !== null &&
    !cc.map.has('public') &&
    !cc.map.has('s-maxage') &&
    !cc.map.has('must-revalidate')
  ) {
    return no('authorization');
  }
  if (!o.allowSetCookie && hasHeader(res.headers, 'set-cookie')) return no('set-cookie');
  if (varyNames(res.headers) === '*') return no('vary-star');
  if (!o.response({ status, headers: res.headers }, request)) return no('policy');
  const override =
    typeof o.freshness === 'function' ? o.freshness(request, { status, headers: res.headers }) : o.freshness;
  if (override !== undefined) return { storable: true, override };
  const explicit = hasExplicitFreshness(res.headers, cc) || cc.map.has('public');
  if (!explicit && !heuristicallyCacheable(status)) return no('no-freshness');
  // A response stale on arrival with nothing to revalidate it by, and no stale window, is not worth a write.
  const lifetimeZero =
    (cc.map.has('s-maxage') && deltaSeconds(cc.map.get('s-maxage')) === 0) ||
    (!cc.map.has('s-maxage') && cc.map.has('max-age') && deltaSeconds(cc.map.get('max-age')) === 0);
  if (
    lifetimeZero &&
    getHeader(res.headers, 'etag') === undefined &&
    getHeader(res.headers, 'last-modified') === undefined &&
    !cc.map.has('stale-while-revalidate') &&
    !cc.map.has('stale-if-error')
  ) {
    return no('stale-on-arrival');
  }
  return { storable: true, override: undefined };
}
