/// <reference types="node" />
import { Writable } from 'node:stream';
import {
  type Awaitable,
  type CacheBackend,
  CacheError,
  CacheKey,
  type CacheOperation,
  CacheValue,
  isPromiseLike,
} from '@cache/core';
import {
  type ResolvedUndiciCacheStoreOptions,
  resolveUndiciCacheStoreOptions,
  type UndiciCacheStoreOptions,
} from './options.js';
import { readStoredResponses, type StoredResponse, toGetResult } from './stored-response.js';
import type {
  UndiciCacheKey,
  UndiciCacheValue,
  UndiciGetResult,
  UndiciStoreContract,
} from './undici-types.js';
import { entryInstants, findVariant, matches, withVariant } from './variants.js';

/** A response between the read and the write of its entry. */
interface Commit {
  /** Set by a delete of the URL: the write is cancelled (nothing read is written back) and this is not served. */
  deleted: boolean;
  readonly stored: StoredResponse;
}

/** Version of the entry layout, as `CacheKey.version`: bumping it orphans entries of an older layout. */
const LAYOUT_VERSION = 1;
/** Store keys kept ready, so a hit on a hot URL builds no key. */
const MAX_MEMOIZED_KEYS = 1024;
const noop = (): void => undefined;

/**
 * An undici `CacheStore` over any `CacheBackend`: `fetch` through undici's cache interceptor stores responses in
 * memory, Redis, or both, and every process on the same Redis shares them.
 *
 * One backend entry per URL (origin and path with query) holds every variant of it (by method and by the values
 * of the request headers its `Vary` names), newest first, so undici's delete by URL is one backend delete and a
 * hit is one backend read. Entries live until the last variant's delete instant. Failures never fail the request:
 * a read that fails or finds an entry that is not ours is a miss, a write that fails is skipped, and both are
 * reported to `onError`. Over a backend that answers synchronously (memory), a hit returns without a promise.
 */
export class UndiciCacheStore implements UndiciStoreContract {
  /** The backend responses are kept in. */
  readonly backend: CacheBackend;
  readonly #options: ResolvedUndiciCacheStoreOptions;
  readonly #keys = new Map<string, Map<string, CacheKey>>();
  #memoized = 0;
  /** Entry data this store wrote or already checked: an in-process backend hands the same objects back. */
  readonly #trusted = new WeakSet<object>();
  readonly #pending = new Set<Promise<void>>();
  /**
   * Responses being written (their entry read, not yet written back), by store key. This process answers from
   * them until the write lands, as undici's memory store would; a delete of the URL marks them deleted.
   */
  readonly #committing = new Map<string, Set<Commit>>();

  constructor(options: UndiciCacheStoreOptions) {
    this.#options = resolveUndiciCacheStoreOptions(options);
    this.backend = this.#options.backend;
  }

  /** The stored response that answers `key`, or `undefined`. Never rejects: a failed read is a reported miss. */
  get(key: UndiciCacheKey): UndiciGetResult | Promise<UndiciGetResult | undefined> | undefined {
    let read: Awaitable<CacheValue<unknown> | undefined>;
    try {
      const storeKey = this.#storeKey(key);
      if (this.#committing.size > 0) {
        const pending = this.#pendingAnswer(storeKey, key);
        if (pending !== undefined) return pending;
      }
      read = this.backend.get<unknown>(storeKey);
    } catch (error) {
      return this.#report(error, 'get', key);
    }
    if (!isPromiseLike(read)) return this.#answer(read, key);
    return read.then(
      (value) => this.#answer(value, key),
      (error: unknown) => this.#report(error, 'get', key),
    );
  }

  /**
   * A stream taking the body of the response described by `value`; the response is stored when the stream
   * ends, replacing the variant the same request would have selected. A body over `maxBodyBytes` destroys the
   * stream and nothing is stored.
   */
  createWriteStream(key: UndiciCacheKey, value: UndiciCacheValue): Writable | undefined {
    let storeKey: CacheKey;
    try {
      storeKey = this.#storeKey(key);
    } catch (error) {
      return this.#report(error, 'set', key);
    }
    const store = this;
    const limit = this.#options.maxBodyBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    return new Writable({
      write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
        size += bytes.byteLength;
        if (size > limit) {
          chunks.length = 0;
          this.destroy();
        } else {
          chunks.push(bytes);
        }
        callback();
      },
      final(callback: (error?: Error | null) => void) {
        const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
        store.#settle(
          () => store.#commit(storeKey, key, toStored(key, value, body)),
          key,
          () => callback(),
        );
      },
    });
  }

  /** Removes every stored variant of the URL of `key`, whatever their method. Never rejects. */
  delete(key: UndiciCacheKey): void | Promise<void> {
    let deleted: Awaitable<unknown>;
    try {
      const storeKey = this.#storeKey(key);
      const committing = this.#committing.get(storeKey.canonical);
      if (committing !== undefined) for (const commit of committing) commit.deleted = true;
      deleted = this.backend.delete(storeKey);
    } catch (error) {
      this.#report(error, 'delete', key);
      return;
    }
    if (isPromiseLike(deleted)) {
      return Promise.resolve(deleted).then(noop, (error: unknown) => {
        this.#report(error, 'delete', key);
      });
    }
  }

  /** Resolves once every response whose body has ended so far is written to the backend (or failed). */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  /**
   * The backend key of the entry holding every variant of the URL of `key` (its origin and path; the method
   * and headers do not count), e.g. to find it in Redis.
   */
  keyOf(key: UndiciCacheKey): CacheKey {
    return this.#storeKey(key);
  }

  #storeKey(key: UndiciCacheKey): CacheKey {
    // By origin, then path: two lookups of the strings undici hands over, no string built per request.
    const paths = this.#keys.get(key.origin);
    const storeKey = paths?.get(key.path);
    return storeKey ?? this.#newStoreKey(key, paths);
  }

  #newStoreKey(key: UndiciCacheKey, known: Map<string, CacheKey> | undefined): CacheKey {
    if (typeof key.origin !== 'string' || typeof key.path !== 'string') {
      throw new CacheError('INVALID_KEY', 'undici cache key needs an origin and a path', {
        backend: this.backend.label,
      });
    }
    const storeKey = CacheKey.from(
      [
        ['origin', key.origin],
        ['path', key.path],
      ],
      { prefix: this.#options.keyPrefix, version: LAYOUT_VERSION },
    );
    let paths = known;
    if (this.#memoized >= MAX_MEMOIZED_KEYS) {
      this.#keys.clear();
      this.#memoized = 0;
      paths = undefined;
    }
    if (paths === undefined) {
      paths = new Map();
      this.#keys.set(key.origin, paths);
    }
    paths.set(key.path, storeKey);
    this.#memoized++;
    return storeKey;
  }

  /** The newest response being written for the URL of `key` that answers it, unless a delete came after. */
  #pendingAnswer(storeKey: CacheKey, key: UndiciCacheKey): UndiciGetResult | undefined {
    const commits = this.#committing.get(storeKey.canonical);
    if (commits === undefined) return undefined;
    let found: StoredResponse | undefined;
    const now = this.#options.now();
    for (const commit of commits) {
      if (!commit.deleted && commit.stored.deleteAt > now && matches(commit.stored, key))
        found = commit.stored;
    }
    return found === undefined ? undefined : toGetResult(found);
  }

  #answer(value: CacheValue<unknown> | undefined, key: UndiciCacheKey): UndiciGetResult | undefined {
    if (value === undefined) return undefined;
    let variants: readonly StoredResponse[];
    try {
      variants = readStoredResponses(value.data, this.#trusted);
    } catch (error) {
      return this.#report(error, 'get', key);
    }
    const found = findVariant(variants, key, this.#options.now());
    return found === undefined ? undefined : toGetResult(found);
  }

  /**
   * Reads the URL's entry, puts `stored` first among its variants and writes the entry back. A delete of the URL
   * in this process before the write (an unsafe request) cancels it: written back, the variants read would come
   * back to life, and `stored` itself ended before the delete.
   */
  #commit(storeKey: CacheKey, key: UndiciCacheKey, stored: StoredResponse): Awaitable<void> {
    const id = storeKey.canonical;
    const commit: Commit = { deleted: false, stored };
    let committing = this.#committing.get(id);
    if (committing === undefined) {
      committing = new Set();
      this.#committing.set(id, committing);
    }
    committing.add(commit);
    const done = (): void => {
      committing.delete(commit);
      if (committing.size === 0 && this.#committing.get(id) === committing) this.#committing.delete(id);
    };
    let result: Awaitable<void>;
    try {
      result = this.#readAndWrite(storeKey, key, stored, commit);
    } catch (error) {
      done();
      throw error;
    }
    if (!isPromiseLike(result)) {
      done();
      return result;
    }
    return Promise.resolve(result).finally(done);
  }

  #readAndWrite(
    storeKey: CacheKey,
    key: UndiciCacheKey,
    stored: StoredResponse,
    commit: Commit,
  ): Awaitable<void> {
    const write = (current: CacheValue<unknown> | undefined): Awaitable<void> => {
      // Deleted since the body ended: the delete came after this write, so it removes it too.
      if (commit.deleted) return;
      let variants: readonly StoredResponse[] = [];
      if (current !== undefined) {
        try {
          variants = readStoredResponses(current.data, this.#trusted);
        } catch (error) {
          // Not ours: report it, and let the write replace it.
          this.#report(error, 'get', key);
        }
      }
      const now = this.#options.now();
      const next = withVariant(variants, key, stored, this.#options.maxVariants, now);
      this.#trusted.add(next);
      const { expire, stale } = entryInstants(next);
      return this.backend.set(storeKey, new CacheValue(next, expire, stale < expire ? stale : undefined));
    };
    // A read that fails still lets the write replace the entry: what was there is lost either way.
    const unreadable = (error: unknown): Awaitable<void> => {
      this.#report(error, 'get', key);
      return write(undefined);
    };
    let read: Awaitable<CacheValue<unknown> | undefined>;
    try {
      read = this.backend.get<unknown>(storeKey);
    } catch (error) {
      return unreadable(error);
    }
    return isPromiseLike(read) ? Promise.resolve(read).then(write, unreadable) : write(read);
  }

  /** Runs `start`, reporting its failure, then calls `done`; asynchronous work is kept for {@link flush}. */
  #settle(start: () => Awaitable<void>, key: UndiciCacheKey, done: () => void): void {
    let result: Awaitable<void>;
    try {
      result = start();
    } catch (error) {
      this.#report(error, 'set', key);
      done();
      return;
    }
    if (!isPromiseLike(result)) {
      done();
      return;
    }
    const pending: Promise<void> = Promise.resolve(result)
      .then(noop, (error: unknown) => {
        this.#report(error, 'set', key);
      })
      .finally(() => {
        this.#pending.delete(pending);
        done();
      });
    this.#pending.add(pending);
  }

  #report(error: unknown, operation: CacheOperation, key: UndiciCacheKey): undefined {
    const wrapped = CacheError.wrap(error, 'BACKEND', `undici cache store ${operation} failed`, {
      backend: this.backend.label,
      operation,
      key: describeUrl(key),
    });
    try {
      this.#options.onError(wrapped);
    } catch {
      // onError must not throw; a throwing one must not fail the request either.
    }
    return undefined;
  }
}

/** The URL of `key` for an error, without its query string (which may carry tokens). */
function describeUrl(key: UndiciCacheKey | undefined): string {
  const path = typeof key?.path === 'string' ? key.path : '';
  const query = path.indexOf('?');
  return `${String(key?.origin)}${query === -1 ? path : `${path.slice(0, query)}?…`}`;
}

function toStored(key: UndiciCacheKey, value: UndiciCacheValue, body: Buffer): StoredResponse {
  const stored: {
    -readonly [K in keyof StoredResponse]: StoredResponse[K];
  } = {
    method: key.method,
    statusCode: value.statusCode,
    statusMessage: value.statusMessage,
    headers: value.headers,
    cacheControlDirectives: value.cacheControlDirectives ?? {},
    cachedAt: value.cachedAt,
    staleAt: value.staleAt,
    deleteAt: value.deleteAt,
    body,
  };
  if (value.vary !== undefined) stored.vary = value.vary;
  if (value.etag !== undefined) stored.etag = value.etag;
  return stored;
}

/** An undici `CacheStore` over `options.backend`; see {@link UndiciCacheStore}. */
export function undiciCacheStore(options: UndiciCacheStoreOptions): UndiciCacheStore {
  return new UndiciCacheStore(options);
}
