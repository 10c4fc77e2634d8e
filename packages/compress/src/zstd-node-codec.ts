import { CacheError } from '@cache/core';
import { decompressError, describe, limitError, owned } from './errors.js';
import { NODE_MAX_OUTPUT, type NodeZlib } from './node-zlib.js';
import { planZstd } from './zstd-plan.js';

/** Compression and decompression on node:zlib's zstd (Node 22.15+, 23.8+). */
export class NodeZstdCodec {
  readonly #zlib: NodeZlib;
  readonly #params: Record<number, number>;

  constructor(zlib: NodeZlib, level: number) {
    this.#zlib = zlib;
    const { ZSTD_c_compressionLevel, ZSTD_c_checksumFlag } = zlib.constants;
    this.#params = { [ZSTD_c_compressionLevel!]: level, [ZSTD_c_checksumFlag!]: 1 };
  }

  compress(bytes: Uint8Array): Uint8Array {
    try {
      // the pledged size puts the content size in the frame header, so readers can allocate exactly
      return owned(
        this.#zlib.zstdCompressSync!(bytes, { params: this.#params, pledgedSrcSize: bytes.length }),
      );
    } catch (error) {
      throw CacheError.wrap(error, 'COMPRESS', 'zstd compression failed');
    }
  }

  decompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
    planZstd(bytes, maxOutputBytes);
    let out: Uint8Array;
    try {
      const maxOutputLength = Math.max(1, Math.min(maxOutputBytes, NODE_MAX_OUTPUT));
      out = this.#zlib.zstdDecompressSync!(bytes, { maxOutputLength });
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
        throw limitError('zstd', maxOutputBytes);
      throw decompressError('zstd', `corrupt zstd data (${describe(error)})`, error);
    }
    if (out.length > maxOutputBytes) throw limitError('zstd', maxOutputBytes);
    return owned(out);
  }
}
