import { CacheError } from './errors.js';

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
 * It never expands its input, but it still holds the limit: a payload longer than `maxOutputBytes` fails with
 * `DECOMPRESS_LIMIT`, so the bound on what reaches the deserializer is the same with or without compression.
 */
export const passthrough: Compressor = Object.freeze({
  id: 'none',
  compress(bytes: Uint8Array): Uint8Array {
    return bytes;
  },
  decompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
    if (bytes.byteLength > maxOutputBytes) throw overLimit(bytes.byteLength, maxOutputBytes);
    return bytes;
  },
});

/** The `DECOMPRESS_LIMIT` error for a payload of `size` bytes, over `maxOutputBytes`. */
export function overLimit(size: number, maxOutputBytes: number): CacheError {
  return new CacheError(
    'DECOMPRESS_LIMIT',
    `payload of ${size} bytes exceeds the limit of ${maxOutputBytes} bytes (maxDecompressedBytes)`,
  );
}
