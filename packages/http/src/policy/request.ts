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

/** Internal: a request's `Host` field and target exactly as received (see {@link RAW_TARGET}). */
export interface RawTarget {
  readonly host: string;
  readonly target: string;
}

/**
 * Internal (not exported by the package): the {@link RawTarget} of the node middleware's requests. The default
 * key is a function of it alone, so the engine keeps the keys it made by it.
 */
export const RAW_TARGET: unique symbol = Symbol('@cache/http raw target');
