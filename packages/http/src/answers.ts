import { type CacheStatus, formatCacheStatus } from './cache-status.js';
import { updateHeaders, validators } from './conditional.js';
import type { Body } from './body.js';
import { withoutHeaders, withoutHopByHop } from './headers.js';
import type { CacheResponse, OriginResponse, RequestChanges } from './origin.js';
import type { CacheRequest } from './policy/request.js';
import type { ByteRange, PartialSlice } from './range.js';
import type { StoredResponse } from './stored-response.js';

/** No header changes: the request goes to the origin as it came. */
export const NO_CHANGES: RequestChanges = { set: {}, remove: [] };

/** The client's own conditions, replaced by the stored response's validators when the cache revalidates. */
const CONDITIONALS = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range'];

/** The conditional request that revalidates `stale` (its ETag, its Last-Modified), or no change without them. */
export function revalidationChanges(stale: StoredResponse): RequestChanges {
  const set = validators(stale.headers);
  if (Object.keys(set).length === 0) return NO_CHANGES;
  return { set, remove: CONDITIONALS };
}

/** The stored response after a 304: its fields updated, its clock restarted. */
export function refreshed(
  stale: StoredResponse,
  res: OriginResponse,
  requestTime: number,
  responseTime: number,
): StoredResponse {
  return {
    ...stale,
    headers: updateHeaders(stale.headers, withoutHopByHop(res.headers)),
    requestTime,
    responseTime,
  };
}

const LENGTH = new Set(['content-length', 'content-range']);

/** A 206 answer with one range of a complete stored body. */
export function partial(
  request: CacheRequest,
  stored: StoredResponse,
  headers: Array<[string, string]>,
  range: ByteRange,
  status: CacheStatus,
): CacheResponse {
  const out = withoutHeaders(headers, LENGTH);
  out.push(['Content-Range', `bytes ${range.start}-${range.end}/${stored.body.byteLength}`]);
  out.push(['Content-Length', String(range.end - range.start + 1)]);
  return {
    status: 206,
    statusText: 'Partial Content',
    headers: out,
    body: request.method === 'HEAD' ? null : stored.body.subarray(range.start, range.end + 1),
    cacheStatus: status,
  };
}

/** A 206 answer with the part of a stored 206 that a range request asks for. */
export function partialOfPartial(
  request: CacheRequest,
  stored: StoredResponse,
  headers: Array<[string, string]>,
  slice: PartialSlice,
  status: CacheStatus,
): CacheResponse {
  const out = withoutHeaders(headers, LENGTH);
  out.push(['Content-Range', `bytes ${slice.first}-${slice.last}/${slice.total}`]);
  out.push(['Content-Length', String(slice.to - slice.from)]);
  return {
    status: 206,
    statusText: stored.statusText === '' ? 'Partial Content' : stored.statusText,
    headers: out,
    body: request.method === 'HEAD' ? null : stored.body.subarray(slice.from, slice.to),
    cacheStatus: status,
  };
}

/** The 504 of a request that said `only-if-cached` when nothing usable is stored. */
export function gatewayTimeout(name: string): CacheResponse {
  const status: CacheStatus = { hit: false, detail: 'only-if-cached' };
  return {
    status: 504,
    statusText: 'Gateway Timeout',
    headers: [
      ['Content-Length', '0'],
      ['Cache-Status', formatCacheStatus(name, status)],
    ],
    body: null,
    cacheStatus: status,
  };
}

const AGE = new Set(['age']);

/**
 * A stored response served whole (not a 304, not a part): its stored fields without `Age`, then the current
 * `Age` and this cache's `Cache-Status`. The header list is made when first read; adapters that send the stored
 * fields their own way (the node middleware) read `stored`, `age` and `cacheStatusField` instead.
 */
export class StoredAnswer implements CacheResponse {
  readonly status: number;
  readonly statusText: string;
  readonly body: Body;
  readonly cacheStatus: CacheStatus;
  /** The stored response answered. */
  readonly stored: StoredResponse;
  /** The `Age` value sent. */
  readonly age: string;
  /** The `Cache-Status` member sent. */
  readonly cacheStatusField: string;
  #headers: Array<[string, string]> | undefined;

  constructor(
    stored: StoredResponse,
    body: Body,
    age: string,
    cacheStatusField: string,
    status: CacheStatus,
  ) {
    this.status = stored.status;
    this.statusText = stored.statusText;
    this.body = body;
    this.cacheStatus = status;
    this.stored = stored;
    this.age = age;
    this.cacheStatusField = cacheStatusField;
  }

  get headers(): Array<[string, string]> {
    if (this.#headers === undefined) {
      const headers = withoutHeaders(this.stored.headers, AGE);
      headers.push(['Age', this.age]);
      headers.push(['Cache-Status', this.cacheStatusField]);
      this.#headers = headers;
    }
    return this.#headers;
  }
}
