import type { HeaderList, RequestHeaders } from '../headers.js';

/** A request as the cache sees it, whatever the server framework. */
export interface CacheRequest {
  /** Upper-case method. */
  readonly method: string;
  /** The absolute request URL (path and query are what the default key is made of). */
  readonly url: URL;
  readonly headers: RequestHeaders;
}

/** A response's status and header fields, as response predicates see them. */
export interface ResponseHead {
  readonly status: number;
  readonly headers: HeaderList;
}

/**
 * Internal (not exported by the package): the `Host` field and request target exactly as received, set by the
 * node middleware on its requests. The default key is a function of them alone, so the engine keeps the keys it
 * made by this string.
 */
export const RAW_TARGET: unique symbol = Symbol('@cache/http raw target');
