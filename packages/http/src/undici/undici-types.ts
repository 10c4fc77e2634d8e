/// <reference types="node" />
import type { Writable } from 'node:stream';

/**
 * The shapes of undici's cache interceptor (`undici/types/cache-interceptor.d.ts`, undici 7), declared here so
 * that `@cache/http` needs undici neither at run time nor for its types. They match undici's own structurally:
 * a store implementing {@link UndiciStoreContract} is accepted wherever undici asks for a `CacheStore`.
 */

/** Header values as undici hands them over: one string, or several for a repeated header. */
export type UndiciHeaderValue = string | string[];

/** What undici identifies a request by. Headers are lowercased by the interceptor before they get here. */
export interface UndiciCacheKey {
  /** Scheme, host and port, e.g. `"http://127.0.0.1:8080"`. */
  origin: string;
  /** Request method, e.g. `"GET"`. */
  method: string;
  /** Path with the query string. */
  path: string;
  /** The request headers, for matching `Vary`. */
  headers?: Record<string, UndiciHeaderValue>;
}

/** The request directives of `Cache-Control` as undici parses them. */
export interface UndiciCacheControlDirectives {
  'max-stale'?: number;
  'min-fresh'?: number;
  'max-age'?: number;
  's-maxage'?: number;
  'stale-while-revalidate'?: number;
  'stale-if-error'?: number;
  public?: true;
  private?: true | string[];
  'no-store'?: true;
  'no-cache'?: true | string[];
  'must-revalidate'?: true;
  'proxy-revalidate'?: true;
  immutable?: true;
  'no-transform'?: true;
  'must-understand'?: true;
  'only-if-cached'?: true;
}

/** A response undici asks the store to keep, without its body (which follows through the write stream). */
export interface UndiciCacheValue {
  statusCode: number;
  statusMessage: string;
  headers: Record<string, UndiciHeaderValue>;
  /** For each header the response varies on, the request's value (`null`: the request did not send it). */
  vary?: Record<string, UndiciHeaderValue | null>;
  etag?: string;
  cacheControlDirectives?: UndiciCacheControlDirectives;
  /** When the response was generated, in Unix ms (corrected for its `Age`). */
  cachedAt: number;
  /** When it turns stale, in Unix ms. */
  staleAt: number;
  /** When it must no longer be kept, in Unix ms. */
  deleteAt: number;
}

/** A stored response handed back to undici. The body is an array of buffers (one, or none when empty). */
export interface UndiciGetResult {
  statusCode: number;
  statusMessage: string;
  headers: Record<string, UndiciHeaderValue>;
  vary?: Record<string, UndiciHeaderValue | null>;
  etag?: string;
  body?: Buffer[];
  cacheControlDirectives: UndiciCacheControlDirectives;
  cachedAt: number;
  staleAt: number;
  deleteAt: number;
}

/** The store contract of undici's cache interceptor (`interceptors.cache({ store })`). */
export interface UndiciStoreContract {
  get(key: UndiciCacheKey): UndiciGetResult | Promise<UndiciGetResult | undefined> | undefined;
  createWriteStream(key: UndiciCacheKey, value: UndiciCacheValue): Writable | undefined;
  delete(key: UndiciCacheKey): void | Promise<void>;
}
