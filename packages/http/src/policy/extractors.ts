import { CacheError } from '@cache/core';
import { compilePath } from './pattern.js';
import type { CacheRequest } from './request.js';

/** One part of a cache key: a name and a value (`null` for none). */
export type KeyPartTuple = readonly [name: string, value: string | null];

/**
 * Adds parts to a request's cache key. Keys are ordered lists of parts, as in hitbox: extractors run in the
 * order given and each appends its parts. HEAD and GET share keys (a HEAD is answered from a stored GET).
 */
export type KeyExtractor = (request: CacheRequest) => readonly KeyPartTuple[];

/** The method, with HEAD counted as GET. Only useful when other methods are cached too. */
export function keyMethod(): KeyExtractor {
  return (request) => [['method', request.method === 'HEAD' ? 'GET' : request.method]];
}

/** The host (`Host` header, else the URL's). */
export function keyHost(): KeyExtractor {
  return (request) => [['host', (request.headers.get('host') ?? request.url.host).toLowerCase()]];
}

/** The whole path. */
export function keyPath(): KeyExtractor {
  return (request) => [['path', request.url.pathname]];
}

/**
 * The named parameters of `pattern` (`/users/{id}`), in pattern order; requests whose path does not match get a
 * `path` part with the whole path instead, so they never share a key with matching ones.
 */
export function keyPathParams(pattern: string | RegExp): KeyExtractor {
  const compiled = compilePath(pattern);
  return (request) => {
    const params = compiled.match(request.url.pathname);
    if (params === undefined) return [['path', request.url.pathname]];
    return Object.entries(params).map(([name, value]) => [`param:${name}`, value] as const);
  };
}

/**
 * Query parameters. With names, only those (in the order given, absent ones as `null`), so other parameters
 * (tracking, cache busters) share the cached response; without, the whole query string as sent.
 */
export function keyQuery(...names: string[]): KeyExtractor {
  if (names.length === 0) return (request) => [['query', request.url.search]];
  return (request) =>
    names.map((name) => {
      const values = request.url.searchParams.getAll(name);
      return [`query:${name}`, values.length === 0 ? null : values.join('&')] as const;
    });
}

/** Request header values (lower-case names; absent ones as `null`). Prefer `Vary` when the origin sets it. */
export function keyHeaders(...names: string[]): KeyExtractor {
  if (names.length === 0)
    throw new CacheError('INVALID_OPTIONS', 'keyHeaders needs at least one header name');
  const lower = names.map((n) => n.toLowerCase());
  return (request) => lower.map((name) => [`header:${name}`, request.headers.get(name)] as const);
}

/**
 * The default key: host, path and whole query string. The host is in it so a response made for one `Host` (links
 * built from it, a poisoned header) is never served to requests for another.
 */
export const DEFAULT_KEY: readonly KeyExtractor[] = [keyHost(), keyPath(), keyQuery()];
