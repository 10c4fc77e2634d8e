import { CacheError } from '@cache/core';
import { compilePath } from './pattern.js';
import type { CacheRequest, ResponseHead } from './request.js';

/** Decides whether the cache handles a request (serves it from the cache, stores its response). */
export type RequestPredicate = (request: CacheRequest) => boolean;

/** Decides whether a response may be stored (on top of the RFC 9111 rules, which always apply). */
export type ResponsePredicate = (response: ResponseHead, request: CacheRequest) => boolean;

/** Requests whose method is one of `methods` (case-insensitive). */
export function methodIs(...methods: string[]): RequestPredicate {
  const set = new Set(methods.map((m) => m.toUpperCase()));
  return (request) => set.has(request.method);
}

/** Requests whose path matches `pattern` (`/users/{id}`, `/static/*`, or a `RegExp`). */
export function pathMatches(pattern: string | RegExp): RequestPredicate {
  const compiled = compilePath(pattern);
  return (request) => compiled.match(request.url.pathname) !== undefined;
}

/** Requests with the query parameter `name` (equal to `value` when given). */
export function queryHas(name: string, value?: string): RequestPredicate {
  return (request) => {
    const found = request.url.searchParams.getAll(name);
    return value === undefined ? found.length > 0 : found.includes(value);
  };
}

/** Requests with the header `name` (equal to `value`, or matching it when it is a `RegExp`, when given). */
export function headerHas(name: string, value?: string | RegExp): RequestPredicate {
  return (request) => {
    const found = request.headers.get(name);
    if (found === null) return false;
    if (value === undefined) return true;
    return typeof value === 'string' ? found === value : value.test(found);
  };
}

/** Responses whose status is one of `statuses`; a `[from, to]` pair is an inclusive range. */
export function statusIn(...statuses: Array<number | readonly [number, number]>): ResponsePredicate {
  for (const s of statuses) {
    if (typeof s !== 'number' && !(Array.isArray(s) && s.length === 2)) {
      throw new CacheError('INVALID_OPTIONS', 'statusIn takes status codes and [from, to] ranges');
    }
  }
  return (response) =>
    statuses.some((s) =>
      typeof s === 'number' ? response.status === s : response.status >= s[0] && response.status <= s[1],
    );
}

/** Responses with the header `name` (equal to `value`, or matching it when it is a `RegExp`, when given). */
export function responseHeaderHas(name: string, value?: string | RegExp): ResponsePredicate {
  const lower = name.toLowerCase();
  return (response) =>
    response.headers.some(
      ([n, v]) =>
        n.toLowerCase() === lower &&
        (value === undefined || (typeof value === 'string' ? v === value : value.test(v))),
    );
}

/** True when every predicate is. */
export function all<P extends (...args: never[]) => boolean>(...predicates: P[]): P {
  return ((...args: Parameters<P>) => predicates.every((p) => p(...args))) as P;
}

/** True when one of the predicates is. */
export function any<P extends (...args: never[]) => boolean>(...predicates: P[]): P {
  return ((...args: Parameters<P>) => predicates.some((p) => p(...args))) as P;
}

/** The opposite of `predicate`. */
export function not<P extends (...args: never[]) => boolean>(predicate: P): P {
  return ((...args: Parameters<P>) => !predicate(...args)) as P;
}
