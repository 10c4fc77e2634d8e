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
