/**
 * A compressor applied to serialized bytes before they are stored. Implementations throw `CacheError` with code
 * `COMPRESS`, `DECOMPRESS` (corrupt, truncated or foreign bytes) or `DECOMPRESS_LIMIT`.
 */
export interface Compressor {
  /** Stable identifier, e.g. `"gzip"`, `"zstd"` or `"none"`. */
  readonly id: string;
  /** Compresses `bytes`. */
  compress(bytes: Uint8Array): Uint8Array;
  /**
   * Decompresses `bytes`, failing with `DECOMPRESS_LIMIT` as soon as the output would exceed `maxOutputBytes`,
   * so a decompression bomb costs at most that much memory.
   */
  decompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array;
}

/** Largest decompressed payload the typed layer accepts unless told otherwise: 64 MiB. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES: number = 64 * 1024 * 1024;

/**
 * The compressor that does nothing: bytes are stored as they are. The default everywhere, as in hitbox.
 * It has no size limit of its own, since it never expands its input.
 */
export const passthrough: Compressor = Object.freeze({
  id: 'none',
  compress(bytes: Uint8Array): Uint8Array {
    return bytes;
  },
  decompress(bytes: Uint8Array): Uint8Array {
    return bytes;
  },
});
