import { CacheError } from '@cache/core';

/** A zstd dictionary as the `zstd --train` tool writes it, with the ID frames compressed with it carry. */
export interface ZstdDictionary {
  readonly bytes: Uint8Array;
  readonly id: number;
}

/**
 * Checks a dictionary given in the options: it must be in zstd's dictionary format (magic `37 a4 30 ec`, as
 * `zstd --train` writes) with a non-zero ID, so that every frame names the dictionary it needs and a reader
 * without it fails instead of misreading. Raw-content dictionaries have no ID and are refused.
 */
export function zstdDictionary(bytes: unknown): ZstdDictionary {
  if (!(bytes instanceof Uint8Array)) {
    throw new CacheError('INVALID_OPTIONS', 'zstd dictionary must be a Uint8Array');
  }
  if (bytes.length < 8 || bytes[0] !== 0x37 || bytes[1] !== 0xa4 || bytes[2] !== 0x30 || bytes[3] !== 0xec) {
    throw new CacheError(
      'INVALID_OPTIONS',
      'zstd dictionary must be in zstd dictionary format (as `zstd --train` writes it, magic 37 a4 30 ec)',
    );
  }
  const id = (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24)) >>> 0;
  if (id === 0) throw new CacheError('INVALID_OPTIONS', 'zstd dictionary must have a non-zero dictionary ID');
  return { bytes: bytes.slice(), id };
}
