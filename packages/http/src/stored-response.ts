import { CacheError } from '@cache/core';
import type { HeaderList } from './headers.js';

/**
 * Freshness the application decided for a response (the `freshness` option), kept with it so every process
 * reading the store applies the same lifetimes. Milliseconds.
 */
export interface FreshnessOverride {
  /** How long the response is fresh from when it was received. */
  readonly ttlMs: number;
  /** How long after that it may be served stale while it is refreshed in the background. */
  readonly staleWhileRevalidateMs?: number;
  /** How long after `ttlMs` it may be served stale when the handler fails. */
  readonly staleIfErrorMs?: number;
}

/** One stored response (one variant of a resource), as written to the store. */
export interface StoredResponse {
  readonly status: number;
  readonly statusText: string;
  /** Header fields exactly as the origin sent them (order and case kept), without connection-specific fields. */
  readonly headers: HeaderList;
  readonly body: Uint8Array;
  /** When the request that fetched (or last revalidated) it was sent, Unix ms. */
  readonly requestTime: number;
  /** When its response arrived, Unix ms. */
  readonly responseTime: number;
  /**
   * The request's values of the fields the response's `Vary` names (lower-case name to value, `null` when the
   * request had none); `undefined` without `Vary`. Only these request fields are stored, never the others.
   */
  readonly vary: Readonly<Record<string, string | null>> | undefined;
  /** Freshness chosen by the application, when it overrides the origin's. */
  readonly override: FreshnessOverride | undefined;
}

/** What is stored at a resource's key: its variants, newest first. */
export interface StoredResource {
  readonly v: 1;
  readonly variants: readonly StoredResponse[];
}

function corrupt(what: string): CacheError {
  return new CacheError('CORRUPT_ENTRY', `stored HTTP response: ${what}`, { operation: 'get' });
}

function isHeaderList(value: unknown): value is HeaderList {
  return (
    Array.isArray(value) &&
    value.every(
      (pair) =>
        Array.isArray(pair) &&
        pair.length === 2 &&
        typeof pair[0] === 'string' &&
        typeof pair[1] === 'string',
    )
  );
}

/** Checks a value read from the store (another version, another writer, hostile bytes) before it is served. */
export function checkResource(value: unknown): StoredResource {
  if (value === null || typeof value !== 'object') throw corrupt('not an object');
  const resource = value as StoredResource;
  if (resource.v !== 1 || !Array.isArray(resource.variants)) throw corrupt('unknown layout');
  for (const variant of resource.variants) {
    if (variant === null || typeof variant !== 'object') throw corrupt('a variant is not an object');
    if (!Number.isInteger(variant.status) || variant.status < 200 || variant.status > 999)
      throw corrupt('bad status');
    if (typeof variant.statusText !== 'string') throw corrupt('bad status text');
    if (!isHeaderList(variant.headers)) throw corrupt('bad headers');
    if (!(variant.body instanceof Uint8Array)) throw corrupt('body is not bytes');
    if (!Number.isFinite(variant.requestTime) || !Number.isFinite(variant.responseTime))
      throw corrupt('bad times');
    if (variant.vary !== undefined && (variant.vary === null || typeof variant.vary !== 'object')) {
      throw corrupt('bad vary');
    }
  }
  return resource;
}
