import { CacheError, CacheKey, type KeyPartsInput } from '@cache/core';

/**
 * A key as callers give it: a string (`"user:42"`), parts (`[['user', '42']]` or `{ user: '42' }`) or a
 * `CacheKey`. The cache's namespace becomes the key's prefix.
 */
export type KeyInput = string | CacheKey | KeyPartsInput;

/** Most string keys remembered per cache, so a hot string key is turned into a `CacheKey` once. */
const MEMO_LIMIT = 10_000;

/**
 * Turns key inputs into `CacheKey`s under one prefix. A string key becomes one part with no value, so
 * `"user:42"` under namespace `"app"` is `CacheKey("app:", 0, [["user:42", null]])`, stored by Redis as
 * `_prefix=app%3A&_version=0&user%3A42=`. String keys are remembered (up to 10,000, then the memo starts
 * over), so the hot path of a repeated key does no parsing, checking or allocation.
 */
export class KeyMaker {
  readonly prefix: string;
  #memo = new Map<string, CacheKey>();

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  key(input: KeyInput): CacheKey {
    if (typeof input === 'string') {
      const known = this.#memo.get(input);
      if (known !== undefined) return known;
      const key = new CacheKey(this.prefix, 0, [{ name: input, value: null }]);
      if (this.#memo.size >= MEMO_LIMIT) this.#memo = new Map();
      this.#memo.set(input, key);
      return key;
    }
    if (input instanceof CacheKey) {
      return this.prefix === '' ? input : input.with({ prefix: this.prefix + input.prefix });
    }
    if (input === null || typeof input !== 'object') {
      throw new CacheError(
        'INVALID_KEY',
        `a key must be a string, key parts or a CacheKey, got ${input === null ? 'null' : typeof input}`,
      );
    }
    return CacheKey.from(input, { prefix: this.prefix });
  }

  /** The key maker of a child namespace. */
  child(name: string): KeyMaker {
    if (typeof name !== 'string' || name === '') {
      throw new CacheError('INVALID_OPTIONS', 'a namespace must be a non-empty string');
    }
    return new KeyMaker(`${this.prefix}${name}:`);
  }
}
