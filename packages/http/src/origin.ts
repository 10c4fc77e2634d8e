import type { Body } from './body.js';
import type { CacheStatus } from './cache-status.js';
import type { HeaderList } from './headers.js';

/** A response from the origin (your handler, or the server a proxy forwards to). */
export interface OriginResponse {
  readonly status: number;
  readonly statusText?: string;
  /** Header fields as sent (order and case), one pair per line. */
  readonly headers: HeaderList;
  readonly body: Body;
}

/** Header changes the cache asks for when it calls the origin (validators for a conditional request). */
export interface RequestChanges {
  /** Fields to set (lower-case names). */
  readonly set: Readonly<Record<string, string>>;
  /** Fields to remove (lower-case names). */
  readonly remove: readonly string[];
}

/**
 * Calls the origin for the request being handled, with `changes` applied to its headers. The engine calls it at
 * most once per `handle()` (the Connect middleware can run the rest of the chain only once), possibly after the
 * client was answered (stale-while-revalidate). It may reject: the cache then serves a stale response when
 * allowed (fail-safe), else the error goes to the caller.
 */
export type Origin = (changes: RequestChanges) => Promise<OriginResponse>;

/** What the cache answers. */
export interface CacheResponse {
  readonly status: number;
  readonly statusText: string;
  /** The header fields to send, `Cache-Status` included. */
  readonly headers: Array<[string, string]>;
  readonly body: Body;
  /** The `Cache-Status` member this cache added, as data. */
  readonly cacheStatus: CacheStatus;
}

/** The answer to one request, and the work to run after it was sent (a background revalidation). */
export interface Handled {
  readonly response: CacheResponse;
  /** Run after the response was sent: revalidates a stale response served under stale-while-revalidate. */
  readonly background?: () => Promise<void>;
}
