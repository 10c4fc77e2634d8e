import type { CacheKey } from '../cache-key.js';

/**
 * Turns a {@link CacheKey} into the bytes a store uses as its key, and back. Implementations throw `CacheError`
 * with code `KEY_DECODE` for bytes that are not a valid encoding, never a wrong key.
 */
export interface KeyFormat {
  /** Stable identifier: `"url-encoded"`, `"bitcode"`, or a custom one. */
  readonly id: string;
  /**
   * False when distinct keys can encode to the same bytes. The url-encoded format writes a `null` value and
   * `""` alike, and a part named `_prefix` or `_version` collides with the header pairs.
   */
  readonly lossless: boolean;
  /** Encodes `key`. Equal keys give equal bytes. */
  encode(key: CacheKey): Uint8Array;
  /** Decodes bytes made by `encode`. */
  decode(bytes: Uint8Array): CacheKey;
}
