import { type Cache, createCache } from '@cache/cache';
import { CacheError, CacheKey } from '@cache/core';
import {
  gatewayTimeout,
  NO_CHANGES,
  partial,
  partialOfPartial,
  refreshed,
  revalidationChanges,
  StoredAnswer,
} from './answers.js';
import { type Body, collect, drain } from './body.js';
import { type CacheStatus, type ForwardReason, formatCacheName, formatCacheStatus } from './cache-status.js';
import { isConditional, NOT_IN_304, notModified } from './conditional.js';
import { createFlights } from './flights.js';
import {
  currentAgeMs,
  type FreshnessSettings,
  factsOf,
  hasExplicitFreshness,
  responseDirectives,
} from './freshness.js';
import { getHeader, type HeaderList, withoutHeaders, withoutHopByHop } from './headers.js';
import { type HttpCacheOptions, type ResolvedOptions, resolveOptions } from './options.js';
import type { CacheResponse, Handled, Origin, OriginResponse } from './origin.js';
import { DEFAULT_KEY } from './policy/extractors.js';
import { type CacheRequest, RAW_TARGET, type RawTarget } from './policy/request.js';
import { partialSlice, requestedRange } from './range.js';
import { collapsible, type RequestDirectives, requestDirectives, reusable, select } from './reuse.js';
import { Counters, type HttpCacheStats } from './stats.js';
import { ResourceStore } from './resource-store.js';
import { storability } from './storability.js';
import type { StoredResource, StoredResponse } from './stored-response.js';
import { varyMatches, varyNames, varyValues } from './vary.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const AGE = new Set(['age']);
/** How many keys of raw request targets the cache keeps (see `#key`). */
const KEYS_KEPT = 1024;

/** The outcome of a fetch shared with collapsed requests: the stored variant, or nothing (they fetch alone). */
type Shared = StoredResponse | undefined;

/**
 * An RFC 9111 shared HTTP cache over any `CacheBackend`, independent of the server framework: adapters
 * (`cacheMiddleware`, `cacheFetch`) turn their requests into {@link CacheRequest}s and call {@link HttpCache.handle}.
 */
export class HttpCache {
  readonly #o: ResolvedOptions;
  readonly #cache: Cache;
  readonly #flights: Cache;
  readonly #name: string;
  readonly #settings: FreshnessSettings;
  readonly #prefix: string;
  readonly #counters = new Counters();
  readonly #resources: ResourceStore;
  /** Keys made for the middleware's requests, by raw `Host`, then raw target (see `#key`). */
  readonly #keys = new Map<string, Map<string, CacheKey>>();
  #keyCount = 0;
  #lastWarn = 0;
  readonly #onStoreError: (error: CacheError) => void;

  constructor(options: HttpCacheOptions) {
    this.#o = resolveOptions(options);
    this.#name = formatCacheName(this.#o.name);
    this.#prefix = this.#o.namespace === '' ? '' : `${this.#o.namespace}:`;
    this.#settings = {
      heuristicFraction: this.#o.heuristicFraction,
      maxHeuristicMs: this.#o.maxHeuristicMs,
      targetedFields: this.#o.targetedCacheControl,
    };
    this.#onStoreError =
      options.onStoreError ??
      ((error) => {
        const now = Date.now();
        if (now - this.#lastWarn < 10_000) return;
        this.#lastWarn = now;
        console.warn(`@cache/http: store failure (${error.code}): ${error.message}`);
      });
    this.#cache = createCache({
      store: options.store,
      // The namespace goes into the keys directly (one CacheKey per request, not one re-prefixed by the cache).
      now: this.#o.now,
      onEvent: (event) => {
        if (event.type === 'store-error') this.#onStoreError(event.error);
      },
    });
    this.#flights = createFlights(this.#o.now);
    this.#resources = new ResourceStore(this.#cache, this.#o, this.#settings, this.#onStoreError);
  }

  /** The underlying `@cache/cache` cache (stats, events). */
  get cache(): Cache {
    return this.#cache;
  }

  /** The key a request's responses are stored at (the namespace as prefix), as the store sees it. */
  key(request: CacheRequest): CacheKey {
    return this.#key(request);
  }

  /**
   * The key of a request: the namespace as prefix, then the parts the extractors make of it. With the default
   * extractors, the key of a request from the node middleware depends only on its raw `Host` and target: the
   * keys made for the last ones seen are kept (at most {@link KEYS_KEPT}, all dropped when full).
   */
  #key(request: CacheRequest): CacheKey {
    if (this.#o.key !== DEFAULT_KEY) return this.#makeKey(request);
    const raw = (request as { readonly [RAW_TARGET]?: RawTarget | undefined })[RAW_TARGET];
    if (raw === undefined) return this.#makeKey(request);
    let byTarget = this.#keys.get(raw.host);
    let key = byTarget?.get(raw.target);
    if (key === undefined) {
      key = this.#makeKey(request);
      if (this.#keyCount >= KEYS_KEPT) {
        this.#keys.clear();
        this.#keyCount = 0;
        byTarget = undefined;
      }
      if (byTarget === undefined) {
        byTarget = new Map();
        this.#keys.set(raw.host, byTarget);
      }
      byTarget.set(raw.target, key);
      this.#keyCount++;
    }
    return key;
  }

  #makeKey(request: CacheRequest): CacheKey {
    const parts: Array<readonly [string, string | null]> = [];
    for (const extract of this.#o.key) parts.push(...extract(request));
    return CacheKey.from(parts, { prefix: this.#prefix });
  }

  /**
   * Answers `request`: from the store, or through `origin` (called at most once), storing what may be stored.
   * Rejects only when the origin failed and no stale response may stand in.
   */
  handle(request: CacheRequest, origin: Origin): Promise<Handled> {
    const o = this.#o;
    try {
      const method = request.method;
      if (method !== 'GET' && method !== 'HEAD') return this.#counted(this.#otherMethod(request, origin));
      if (
        (o.request !== undefined && !o.request(request)) ||
        (!o.allowAuthorization && request.headers.get('authorization') !== null)
      ) {
        return this.#counted(this.#bypass(origin));
      }
      const directives = requestDirectives(request);
      const key = this.#key(request);
      // One promise from the store read to the answer: a hit is decided, counted and returned in its callback.
      return this.#resources.read(key).then(
        (resource) => {
          let handled: Handled | Promise<Handled>;
          try {
            handled = this.#fromStore(request, origin, directives, key, resource);
          } catch (error) {
            this.#counters.originErrors++;
            throw error;
          }
          if (handled instanceof Promise) return this.#counted(handled);
          this.#counters.count(handled.response.cacheStatus);
          return handled;
        },
        (error: unknown) => {
          this.#counters.originErrors++;
          throw error;
        },
      );
    } catch (error) {
      this.#counters.originErrors++;
      return Promise.reject(error);
    }
  }

  /** Counts an answer once it settles (an origin error when it rejects). */
  #counted(answer: Promise<Handled>): Promise<Handled> {
    return answer.then(
      (handled) => {
        this.#counters.count(handled.response.cacheStatus);
        return handled;
      },
      (error: unknown) => {
        this.#counters.originErrors++;
        throw error;
      },
    );
  }

  /** Counters of what the cache answered since it was created. */
  stats(): HttpCacheStats {
    return this.#counters.snapshot();
  }

  /** A request the cache leaves alone (the request predicate, `Authorization`). */
  async #bypass(origin: Origin): Promise<Handled> {
    const res = await origin(NO_CHANGES);
    return { response: this.#pass(res, res.body, { hit: false, fwd: 'bypass', fwdStatus: res.status }) };
  }

  /** A GET or HEAD once the store was read: a stored response when one may be used, else the origin. */
  #fromStore(
    request: CacheRequest,
    origin: Origin,
    directives: RequestDirectives,
    key: CacheKey,
    resource: StoredResource | undefined,
  ): Handled | Promise<Handled> {
    const o = this.#o;
    const variant = resource === undefined ? undefined : select(resource, request);
    const now = o.now();
    if (variant !== undefined) {
      const f = factsOf(variant, this.#settings);
      const age = currentAgeMs(variant, f, now);
      const ttl = f.lifetimeMs - age;
      const usable = reusable(f, age, directives);
      if (usable === 'fresh')
        return { response: this.#serve(request, variant, age, { hit: true, ttl: ttl / 1000 }) };
      if (usable === 'stale-ok') {
        return {
          response: this.#serve(request, variant, age, { hit: true, ttl: ttl / 1000, detail: 'max-stale' }),
        };
      }
      if (directives.cc.map.has('only-if-cached')) return { response: gatewayTimeout(this.#name) };
      if (usable === 'revalidate-in-background' && o.stalePolicy === 'return') {
        return {
          response: this.#serve(request, variant, age, {
            hit: true,
            ttl: ttl / 1000,
            detail: 'stale-return',
          }),
        };
      }
      if (usable === 'revalidate-in-background' && o.stalePolicy === 'revalidate') {
        return {
          response: this.#serve(request, variant, age, {
            hit: true,
            ttl: ttl / 1000,
            detail: 'stale-while-revalidate',
          }),
          background: () => this.#background(request, key, variant, origin),
        };
      }
      const fwd: ForwardReason = usable === 'request' ? 'request' : 'stale';
      return this.#collapsed(request, key, fwd, variant, origin);
    }
    if (directives.cc.map.has('only-if-cached')) return { response: gatewayTimeout(this.#name) };
    return this.#collapsed(
      request,
      key,
      resource === undefined ? 'uri-miss' : 'vary-miss',
      undefined,
      origin,
    );
  }

  /** Removes every stored response of `url` (all variants), in every tier of the store. */
  async invalidate(url: string | URL, headers: CacheRequest['headers'] = { get: () => null }): Promise<void> {
    const key = this.#key({ method: 'GET', url: new URL(url), headers });
    await this.#cache.delete(key);
  }

  /** A `Cache-Status` member of this cache, for adapters answering on their own (an origin that failed). */
  formatStatus(status: CacheStatus): string {
    return formatCacheStatus(this.#name, status);
  }

  /** Closes the store. */
  async close(): Promise<void> {
    await this.#flights.close();
    await this.#cache.close();
  }

  // ── methods other than GET and HEAD ───────────────────────────────────────────────────────────────────────

  async #otherMethod(request: CacheRequest, origin: Origin): Promise<Handled> {
    const requestTime = this.#o.now();
    const res = await origin(NO_CHANGES);
    const responseTime = this.#o.now();
    const status = { hit: false, fwd: 'method', fwdStatus: res.status } as const;
    if (!SAFE_METHODS.has(request.method) && res.status >= 200 && res.status < 400) {
      await this.#invalidateFor(request, res.headers);
    }
    if (request.method === 'POST' && this.#describesTarget(request, res)) {
      // RFC 9111 section 3 / RFC 9110 section 9.3.3: a POST response with explicit freshness whose
      // Content-Location is the target URI is a representation of it, reusable for later GETs.
      const asGet: CacheRequest = { method: 'GET', url: request.url, headers: request.headers };
      const admitted = await this.#admit(
        asGet,
        this.#key(asGet),
        'uri-miss',
        res,
        requestTime,
        responseTime,
        undefined,
      );
      const response = admitted.handled.response;
      return {
        response: {
          ...response,
          headers: response.headers.map(([n, v]) => [
            n,
            n === 'Cache-Status'
              ? formatCacheStatus(this.#name, { ...response.cacheStatus, fwd: 'method' })
              : v,
          ]),
        },
      };
    }
    return { response: this.#pass(res, res.body, status) };
  }

  #describesTarget(request: CacheRequest, res: OriginResponse): boolean {
    if (res.status < 200 || res.status > 299) return false;
    const location = getHeader(res.headers, 'content-location');
    if (location === undefined) return false;
    let url: URL;
    try {
      url = new URL(location, request.url);
    } catch {
      return false;
    }
    if (url.href !== request.url.href) return false;
    const { cc } = responseDirectives(res.headers, this.#o.targetedCacheControl);
    return hasExplicitFreshness(res.headers, cc);
  }

  /** RFC 9111 section 4.4: the target URI, and `Location` / `Content-Location` on the same origin. */
  async #invalidateFor(request: CacheRequest, headers: HeaderList): Promise<void> {
    const urls = [request.url];
    for (const field of ['location', 'content-location']) {
      const value = getHeader(headers, field);
      if (value === undefined) continue;
      try {
        const url = new URL(value, request.url);
        if (url.origin === request.url.origin) urls.push(url);
      } catch {
        // not a URL: nothing to invalidate
      }
    }
    await Promise.all(
      urls.map((url) =>
        this.#cache
          .delete(this.#key({ method: 'GET', url, headers: request.headers }))
          .catch((error: unknown) => {
            this.#onStoreError(
              CacheError.wrap(error, 'BACKEND', 'invalidation failed', { operation: 'delete' }),
            );
          }),
      ),
    );
  }

  // ── going to the origin ───────────────────────────────────────────────────────────────────────────────────

  /** Fetches through the origin, collapsing concurrent plain requests for the same key into one origin call. */
  async #collapsed(
    request: CacheRequest,
    key: CacheKey,
    fwd: ForwardReason,
    stale: StoredResponse | undefined,
    origin: Origin,
  ): Promise<Handled> {
    if (!this.#o.collapse || !collapsible(request)) return this.#fetch(request, key, fwd, stale, origin);
    let own: Handled | undefined;
    let ran = false;
    let shared: Shared;
    try {
      shared = await this.#flights.getOrSet<Shared>(`${request.method} ${key.canonical}`, async (ctx) => {
        ctx.skip();
        ran = true;
        const { handled, share } = await this.#fetchShared(request, key, fwd, stale, origin);
        own = handled;
        return share;
      });
    } catch (error) {
      if (own !== undefined) return own;
      // This caller's own origin call failed: its error. Another's failed: this caller tries for itself.
      if (ran) throw CacheError.is(error, 'LOADER_FAILED') ? error.cause : error;
      return this.#fetch(request, key, fwd, stale, origin);
    }
    if (own !== undefined) return own;
    if (shared !== undefined && varyMatches(shared.vary, request.headers)) {
      const now = this.#o.now();
      const f = factsOf(shared, this.#settings);
      const age = currentAgeMs(shared, f, now);
      return {
        response: this.#serve(request, shared, age, {
          hit: true,
          ttl: (f.lifetimeMs - age) / 1000,
          collapsed: true,
        }),
      };
    }
    return this.#fetch(request, key, fwd, stale, origin);
  }

  async #fetch(
    request: CacheRequest,
    key: CacheKey,
    fwd: ForwardReason,
    stale: StoredResponse | undefined,
    origin: Origin,
  ): Promise<Handled> {
    return (await this.#fetchShared(request, key, fwd, stale, origin)).handled;
  }

  /** One origin call and what follows: revalidation, storing, fail-safe. */
  async #fetchShared(
    request: CacheRequest,
    key: CacheKey,
    fwd: ForwardReason,
    stale: StoredResponse | undefined,
    origin: Origin,
  ): Promise<{ handled: Handled; share: Shared }> {
    const o = this.#o;
    const changes = stale === undefined ? NO_CHANGES : revalidationChanges(stale);
    const requestTime = o.now();
    let res: OriginResponse;
    try {
      res = await origin(changes);
    } catch (error) {
      const served = this.#failSafe(request, stale, 'error', undefined);
      if (served === undefined) throw error;
      return { handled: { response: served }, share: undefined };
    }
    const responseTime = o.now();
    if (stale !== undefined && res.status === 304 && changes !== NO_CHANGES) {
      await drain(res.body);
      const updated = refreshed(stale, res, requestTime, responseTime);
      const stored = await this.#resources.store(key, request, updated, stale);
      const f = factsOf(updated, this.#settings);
      const age = currentAgeMs(updated, f, o.now());
      const status = { hit: false, fwd, fwdStatus: 304, stored, ttl: (f.lifetimeMs - age) / 1000 } as const;
      return { handled: { response: this.#serve(request, updated, age, status) }, share: updated };
    }
    if (stale !== undefined && res.status >= 500) {
      const served = this.#failSafe(request, stale, 'status', res.status);
      if (served !== undefined) {
        await drain(res.body);
        return { handled: { response: served }, share: undefined };
      }
    }
    return this.#admit(request, key, fwd, res, requestTime, responseTime, stale);
  }

  /** A response from the origin: stored when RFC 9111 and the policy allow, passed through in any case. */
  async #admit(
    request: CacheRequest,
    key: CacheKey,
    fwd: ForwardReason,
    res: OriginResponse,
    requestTime: number,
    responseTime: number,
    stale: StoredResponse | undefined,
  ): Promise<{ handled: Handled; share: Shared }> {
    const o = this.#o;
    const base = { hit: false, fwd, fwdStatus: res.status } as const;
    const verdict = storability(request, res, o, this.#settings);
    if (!verdict.storable) {
      // A full response that may not be stored replaces nothing, but the old one must not be served again.
      if (stale !== undefined && res.status !== 304 && request.method === 'GET')
        await this.#resources.store(key, request, undefined, stale);
      return {
        handled: { response: this.#pass(res, res.body, { ...base, detail: verdict.reason }) },
        share: undefined,
      };
    }
    const body = await collect(res.body, o.maxBodyBytes);
    if (!body.complete) {
      return {
        handled: { response: this.#pass(res, body.body, { ...base, detail: 'too-large' }) },
        share: undefined,
      };
    }
    const names = varyNames(res.headers);
    const variant: StoredResponse = {
      status: res.status,
      statusText: res.statusText ?? '',
      headers: withoutHopByHop(res.headers),
      body: body.bytes,
      requestTime,
      responseTime,
      vary: names === '*' || names.length === 0 ? undefined : varyValues(names, request.headers),
      override: verdict.override,
    };
    const stored = await this.#resources.store(key, request, variant, stale);
    const f = factsOf(variant, this.#settings);
    const ttl = (f.lifetimeMs - currentAgeMs(variant, f, o.now())) / 1000;
    return {
      handled: { response: this.#pass(res, body.bytes, { ...base, stored, ttl }) },
      share: stored ? variant : undefined,
    };
  }

  /** A stale response standing in for a failed origin, when `stale-if-error` or the fail-safe option allow it. */
  #failSafe(
    request: CacheRequest,
    stale: StoredResponse | undefined,
    kind: 'error' | 'status',
    status: number | undefined,
  ): CacheResponse | undefined {
    if (stale === undefined) return undefined;
    const f = factsOf(stale, this.#settings);
    const age = currentAgeMs(stale, f, this.#o.now());
    const staleness = age - f.lifetimeMs;
    const ttl = -staleness / 1000;
    const base = {
      hit: false,
      fwd: 'stale',
      ...(status === undefined ? {} : { fwdStatus: status }),
      ttl,
    } as const;
    if (f.staleIfErrorMs > 0 && staleness <= f.staleIfErrorMs) {
      return this.#serve(request, stale, age, { ...base, detail: 'stale-if-error' });
    }
    const failSafe = this.#o.failSafe;
    if (failSafe === false || f.mustRevalidate || f.noCache) return undefined;
    if (kind === 'status' && failSafe !== 'errors-and-5xx') return undefined;
    return this.#serve(request, stale, age, { ...base, detail: 'fail-safe' });
  }

  /** Revalidates a response served under stale-while-revalidate; one revalidation per key at a time. */
  async #background(
    request: CacheRequest,
    key: CacheKey,
    stale: StoredResponse,
    origin: Origin,
  ): Promise<void> {
    try {
      await this.#flights.getOrSet(`revalidate ${key.canonical}`, async (ctx) => {
        ctx.skip();
        const { handled } = await this.#fetchShared(request, key, 'stale', stale, origin);
        await drain(handled.response.body);
        return true;
      });
    } catch {
      // the stale response was served; the next request tries again
    }
  }

  // ── answers ───────────────────────────────────────────────────────────────────────────────────────────────

  /** A stored response sent to the client: current `Age`, 304 for a satisfied conditional, no body for HEAD. */
  #serve(request: CacheRequest, stored: StoredResponse, ageMs: number, status: CacheStatus): CacheResponse {
    const age = String(Math.floor(ageMs / 1000));
    const field = formatCacheStatus(this.#name, status);
    const conditional = isConditional(request.headers);
    const range = stored.status === 200 || stored.status === 206 ? request.headers.get('range') : null;
    if (!conditional && range === null) {
      return new StoredAnswer(stored, request.method === 'HEAD' ? null : stored.body, age, field, status);
    }
    const headers = withoutHeaders(stored.headers, AGE);
    headers.push(['Age', age]);
    headers.push(['Cache-Status', field]);
    if (conditional && notModified(request.headers, stored.headers)) {
      return {
        status: 304,
        statusText: 'Not Modified',
        headers: withoutHeaders(headers, NOT_IN_304),
        body: null,
        cacheStatus: status,
      };
    }
    if (stored.status === 200) {
      const range = requestedRange(request.headers, stored.headers, stored.body.byteLength);
      if (range !== undefined) return partial(request, stored, headers, range, status);
    } else if (stored.status === 206) {
      const slice = partialSlice(request.headers, stored.headers, stored.body.byteLength);
      if (slice !== undefined) return partialOfPartial(request, stored, headers, slice, status);
    }
    return new StoredAnswer(stored, request.method === 'HEAD' ? null : stored.body, age, field, status);
  }

  /** The origin's response as it came, with this cache's `Cache-Status`. */
  #pass(res: OriginResponse, body: Body, status: CacheStatus): CacheResponse {
    const headers = res.headers.map(([n, v]) => [n, v] as [string, string]);
    headers.push(['Cache-Status', formatCacheStatus(this.#name, status)]);
    return { status: res.status, statusText: res.statusText ?? '', headers, body, cacheStatus: status };
  }
}

/** Makes an {@link HttpCache}. */
export function createHttpCache(options: HttpCacheOptions): HttpCache {
  return new HttpCache(options);
}
