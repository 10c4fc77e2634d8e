import { CacheError } from '@cache/core';

/** Options of {@link KeyvCacheStore}. */
export interface KeyvCacheStoreOptions {
  /**
   * Start of the `CacheKey.prefix` of every entry the store writes, so Keyv's entries stay apart from other users
   * of the same backend (an `@cache/cache` over the same Redis, another adapter). Each Keyv namespace gets its own
   * prefix below it, `<prefix>:<namespace>:` (namespace URI-encoded), which `clear()` removes.
   * @default "keyv"
   */
  readonly prefix?: string;
  /**
   * Whether `disconnect()` (Keyv's and cache-manager's) closes the backend. Turn it off when the backend is
   * shared: several namespaces or tiers over one `RedisBackend`, closed by its owner.
   * @default true
   */
  readonly closeOnDisconnect?: boolean;
}

/** Options after validation, with defaults applied. */
export interface ResolvedKeyvCacheStoreOptions {
  readonly prefix: string;
  readonly closeOnDisconnect: boolean;
}

/** Checks the options and applies defaults. Throws `INVALID_OPTIONS` naming the bad option. */
export function resolveOptions(options: KeyvCacheStoreOptions = {}): ResolvedKeyvCacheStoreOptions {
  const { prefix = 'keyv', closeOnDisconnect = true } = options;
  if (typeof prefix !== 'string') {
    throw new CacheError('INVALID_OPTIONS', 'KeyvCacheStore: prefix must be a string');
  }
  if (typeof closeOnDisconnect !== 'boolean') {
    throw new CacheError('INVALID_OPTIONS', 'KeyvCacheStore: closeOnDisconnect must be a boolean');
  }
  return { prefix, closeOnDisconnect };
}
