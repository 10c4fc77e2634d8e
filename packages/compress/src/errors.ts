import { CacheError } from '@cache/core';

/** Message of an unknown thrown value. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Corrupt, truncated or foreign input. */
export function decompressError(id: string, problem: string, cause?: unknown): CacheError {
  return new CacheError('DECOMPRESS', `${id}: ${problem}`, cause === undefined ? {} : { cause });
}

/** The output would exceed `maxOutputBytes`. */
export function limitError(id: string, maxOutputBytes: number): CacheError {
  return new CacheError(
    'DECOMPRESS_LIMIT',
    `${id}: decompressed size exceeds the limit of ${maxOutputBytes} bytes (a decompression bomb?)`,
  );
}

/** Checks the `maxOutputBytes` argument of `decompress`. */
export function checkLimit(id: string, maxOutputBytes: number): void {
  if (!Number.isSafeInteger(maxOutputBytes) || maxOutputBytes < 0) {
    throw new CacheError('INVALID_OPTIONS', `${id}: maxOutputBytes must be a non-negative integer`);
  }
}

/**
 * The same bytes as a plain `Uint8Array` that owns its whole buffer. Node returns Buffers that may be views into
 * a shared pool or a larger chunk; a cache that stores them would keep that memory alive.
 */
export function owned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? new Uint8Array(bytes.buffer, 0, bytes.byteLength)
    : new Uint8Array(bytes);
}
