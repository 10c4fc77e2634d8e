import { CacheError, type Compressor } from '@cache/core';
import { checkLimit, decompressError } from './errors.js';
import { fflateGunzip, fflateGzip } from './gzip-fflate.js';
import { gzipHeaderProblem } from './gzip-format.js';
import { nodeGunzip, nodeGzip } from './gzip-node.js';
import { nodeZlib } from './node-zlib.js';

/** Which code does the gzip work. */
export type GzipImplementation = 'node' | 'fflate';

/** Options of {@link gzip}. */
export interface GzipOptions {
  /**
   * Compression level, 0 (store only) to 9 (smallest, slowest).
   * @default 6
   */
  readonly level?: number;
  /**
   * `'node'` uses node:zlib (2-3x faster, fails where the runtime has none), `'fflate'` the portable JavaScript
   * implementation, `'auto'` node:zlib where `process.getBuiltinModule('node:zlib')` exists, else fflate. Both
   * write standard gzip and read each other's bytes.
   * @default 'auto'
   */
  readonly implementation?: GzipImplementation | 'auto';
}

/** A gzip compressor, with what it was built with. */
export interface GzipCompressor extends Compressor {
  readonly id: 'gzip';
  /** The level it compresses with. */
  readonly level: number;
  /** The implementation chosen. */
  readonly implementation: GzipImplementation;
}

/** The gzip level when none is given, as in the gzip tool and zlib. */
export const DEFAULT_GZIP_LEVEL = 6;

/**
 * A gzip (RFC 1952) compressor. Output is standard gzip that any gzip reader accepts; `decompress` accepts any
 * gzip, fails with `DECOMPRESS` on corrupt, truncated or non-gzip bytes (checked against the CRC-32 and length in
 * the trailer) and with `DECOMPRESS_LIMIT` as soon as the output passes `maxOutputBytes`.
 */
export function gzip(options: GzipOptions = {}): GzipCompressor {
  const level = options.level ?? DEFAULT_GZIP_LEVEL;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new CacheError('INVALID_OPTIONS', `gzip level must be an integer from 0 to 9, got ${level}`);
  }
  const wanted = options.implementation ?? 'auto';
  if (wanted !== 'auto' && wanted !== 'node' && wanted !== 'fflate') {
    throw new CacheError('INVALID_OPTIONS', `unknown gzip implementation "${String(wanted)}"`);
  }
  const zlib = wanted === 'fflate' ? undefined : nodeZlib();
  if (wanted === 'node' && zlib === undefined) {
    throw new CacheError(
      'INVALID_OPTIONS',
      'gzip implementation "node" needs node:zlib, which this runtime lacks',
    );
  }

  const check = (bytes: Uint8Array, maxOutputBytes: number): void => {
    checkLimit('gzip', maxOutputBytes);
    const problem = gzipHeaderProblem(bytes);
    if (problem !== undefined) throw decompressError('gzip', problem);
  };
  const compressError = (error: unknown): CacheError =>
    CacheError.wrap(error, 'COMPRESS', 'gzip compression failed');

  if (zlib !== undefined) {
    return Object.freeze({
      id: 'gzip',
      level,
      implementation: 'node',
      compress(bytes: Uint8Array): Uint8Array {
        try {
          return nodeGzip(zlib, bytes, level);
        } catch (error) {
          throw compressError(error);
        }
      },
      decompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
        check(bytes, maxOutputBytes);
        return nodeGunzip(zlib, bytes, maxOutputBytes);
      },
    });
  }
  return Object.freeze({
    id: 'gzip',
    level,
    implementation: 'fflate',
    compress(bytes: Uint8Array): Uint8Array {
      try {
        return fflateGzip(bytes, level);
      } catch (error) {
        throw compressError(error);
      }
    },
    decompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
      check(bytes, maxOutputBytes);
      return fflateGunzip(bytes, maxOutputBytes);
    },
  });
}
